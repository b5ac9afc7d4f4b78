namespace Similarity.Hosting;

public static class Conditional
{
    /// <summary>Whether the request's If-None-Match names <paramref name="etag"/> (or *): the client's copy is current.</summary>
    public static bool IfNoneMatchHas(this HttpRequest request, string etag) =>
        request.Headers.IfNoneMatch.Any(v => v is not null && v.Split(',').Select(t => t.Trim()).Any(t => t == etag || t == "*"));
}
