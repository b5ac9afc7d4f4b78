using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>
/// A shop's picture server on 127.0.0.1, for imports that download pictures by URL: real pictures under
/// /pictures/{name} (with ETags, answering 304 to a matching If-None-Match), and the ways such servers fail —
/// /missing (404), /slow (never answers), /huge (over any limit), /page (HTML served as image/png), /hop/{n}/{name}
/// (redirects), /broken (a server error). It counts what it sent, by status.
/// </summary>
public sealed class PictureServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly Dictionary<string, byte[]> _pictures;
    readonly TaskCompletionSource _never = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Uri Address { get; }

    /// <summary>Responses sent, by path and status: e.g. ("/pictures/a.png", 200) → 1.</summary>
    public ConcurrentDictionary<(string Path, int Status), int> Sent { get; } = new();

    public int Count(int status) => Sent.Where(s => s.Key.Status == status).Sum(s => s.Value);

    PictureServer(WebApplication app, Dictionary<string, byte[]> pictures, Uri address) => (_app, _pictures, Address) = (app, pictures, address);

    public string Url(string path) => new Uri(Address, path).ToString();

    public static async Task<PictureServer> StartAsync(IReadOnlyDictionary<string, byte[]> pictures)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var served = new Dictionary<string, byte[]>(pictures);
        PictureServer? server = null;
        app.Use(async (http, next) =>
        {
            await next(http);
            server!.Sent.AddOrUpdate((http.Request.Path.Value!, http.Response.StatusCode), 1, (_, n) => n + 1);
        });
        app.MapGet("/pictures/{name}", (HttpContext http, string name) =>
        {
            if (!served.TryGetValue(name, out var bytes))
                return Results.NotFound();
            var etag = $"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..16]}\"";
            if (http.Request.Headers.IfNoneMatch == etag)
                return Results.StatusCode(StatusCodes.Status304NotModified);
            http.Response.Headers.ETag = etag;
            return Results.Bytes(bytes, name.EndsWith(".jpg", StringComparison.Ordinal) ? "image/jpeg" : "application/octet-stream");
        });
        app.MapGet("/missing", () => Results.NotFound());
        app.MapGet("/slow", async () => { await server!._never.Task; return Results.NoContent(); });
        app.MapGet("/huge", (HttpContext http) => { http.Response.ContentLength = 200_000_000; return http.Response.Body.WriteAsync(new byte[1024]).AsTask(); });
        app.MapGet("/page", () => Results.Text("<!doctype html><title>Our lovely mug</title><p>Buy now", "image/png"));
        app.MapGet("/hop/{n:int}/{name}", (int n, string name) => Results.Redirect(n == 0 ? $"/pictures/{name}" : $"/hop/{n - 1}/{name}"));
        app.MapGet("/broken", () => Results.StatusCode(StatusCodes.Status500InternalServerError));
        await app.StartAsync();
        server = new PictureServer(app, served, new Uri(app.Urls.First()));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        _never.TrySetResult();
        await _app.DisposeAsync();
    }
}
