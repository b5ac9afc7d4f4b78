using Microsoft.Net.Http.Headers;

namespace Similarity.Pages;

/// <summary>
/// The pages people use: static HTML and a little JavaScript in wwwroot, calling the same API as any
/// client; no build step and nothing from outside the service (the security headers' CSP allows only 'self').
/// </summary>
public static class PagesExtensions
{
    public static WebApplication UsePages(this WebApplication app)
    {
        app.UseDefaultFiles(); // "/" is index.html, the catalog
        app.UseStaticFiles(new StaticFileOptions
        {
            // Revalidated on every use (by ETag): after an upgrade nobody runs an old page against a new API.
            OnPrepareResponse = context => context.Context.Response.Headers[HeaderNames.CacheControl] = "no-cache",
        });
        return app;
    }
}
