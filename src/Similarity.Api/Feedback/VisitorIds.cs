using Similarity.Catalog;

namespace Similarity.Feedback;

/// <summary>
/// What a visitor id (and a session id) may be: opaque, 1–128 printable characters (no control characters, valid
/// Unicode). The service never interprets it; the README asks shops to send no personal data in it.
/// </summary>
public static class VisitorIds
{
    public const int MaxLength = 128;

    /// <summary>The header that carries the visitor on the /similar routes, beside the <c>visitorId</c> query parameter.</summary>
    public const string HeaderName = "X-Visitor-Id";

    /// <summary>Why <paramref name="value"/> is no visitor id, or null when it is one (or absent).</summary>
    public static string? Problem(string field, string? value)
    {
        if (value is null)
            return null;
        if (value.Length == 0)
            return $"The {field} is empty.";
        if (FieldRules.TextProblem(field, value, MaxLength) is { } problem)
            return problem;
        return value.Any(char.IsControl) ? $"The {field} contains a control character: send 1–{MaxLength} printable characters." : null;
    }
}
