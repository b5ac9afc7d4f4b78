namespace Similarity.Hosting;

/// <summary>
/// Headers every answer carries, errors included (set as the response starts, after any exception handler has
/// cleared the headers). Written by hand: three constant headers are shorter to read than a package's options.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>
    /// Nothing but the service's own origin. Swagger UI (Swashbuckle 11) fits in it: its page loads its scripts
    /// and styles from /swagger (no inline script), draws its icons from data: URIs, calls the API with fetch,
    /// and injects one fixed inline style, allowed by its hash (a browser test fails if that style changes).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            return Task.CompletedTask;
        });
        return next(context);
    });
}
