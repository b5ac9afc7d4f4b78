namespace Similarity.Hosting;

/// <summary>The one rule for a page's size, wherever a list is paged (items, imports, row errors).</summary>
public static class Paging
{
    public const int MaxLimit = 1000;

    /// <summary>Why <paramref name="limit"/> is refused, or null.</summary>
    public static string? LimitProblem(int limit) => limit is < 1 or > MaxLimit ? $"limit must be between 1 and {MaxLimit}." : null;
}
