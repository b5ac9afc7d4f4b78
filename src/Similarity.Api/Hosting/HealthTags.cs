namespace Similarity.Hosting;

/// <summary>
/// What a health check's failure means for <c>/health/ready</c>. A <see cref="Ready"/> check failing means the
/// storefront cannot be served (503). A <see cref="Duty"/> is background work beside serving (imports, neighbour lists):
/// its failure shows in its entry and makes the whole Degraded, never 503, since /similar still answers.
/// </summary>
public static class HealthTags
{
    public const string Ready = "ready";
    public const string Duty = "duty";
}
