using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Similarity.Bench;

/// <summary>
/// <c>serve-pictures --zip FILE --port N</c>: the pictures of a benchmark catalog's zip over HTTP on 127.0.0.1, as a
/// shop's web server would serve them (one request each, an ETag, 304 to a matching If-None-Match), for the import
/// benchmark's pictures-by-URL run. Held in memory, so the server's own disk never enters the comparison. Any other
/// request is refused at once: <c>bench isolation</c> sends its flood here as a control (the same load, no service).
/// </summary>
public static class PictureServer
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        await using var app = await StartAsync(args.Get("zip"), args.GetInt("port", 18097));
        await app.WaitForShutdownAsync(); // until Ctrl-C or SIGTERM
        return 0;
    }

    /// <summary>The server, started; disposing it stops it.</summary>
    public static async Task<WebApplication> StartAsync(string zipPath, int port)
    {
        var pictures = new Dictionary<string, (byte[] Bytes, string ETag)>(StringComparer.Ordinal);
        using (var zip = ZipFile.OpenRead(zipPath))
        {
            foreach (var entry in zip.Entries.Where(e => e.Length > 0))
            {
                using var stream = entry.Open();
                using var memory = new MemoryStream();
                stream.CopyTo(memory);
                var bytes = memory.ToArray();
                pictures["/" + entry.FullName] = (bytes, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"");
            }
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.Run(http =>
        {
            if (!pictures.TryGetValue(http.Request.Path.Value ?? "", out var picture))
            {
                // Anything else is refused at once, its body unread (bench isolation floods this server as a control).
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                http.Response.Headers.Connection = "close";
                return Task.CompletedTask;
            }
            if (http.Request.Headers.IfNoneMatch == picture.ETag)
            {
                http.Response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            }
            http.Response.Headers.ETag = picture.ETag;
            http.Response.ContentType = "image/jpeg";
            http.Response.ContentLength = picture.Bytes.Length;
            return http.Response.Body.WriteAsync(picture.Bytes).AsTask();
        });
        await app.StartAsync();
        Console.Error.WriteLine($"serving {pictures.Count} pictures on {string.Join(", ", app.Urls)}");
        return app;
    }
}
