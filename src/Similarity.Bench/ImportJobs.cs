using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Similarity.Bench;

/// <summary>An import through the benchmark service's API: POST /imports with the catalog (and the pictures' zip), then its job followed to its end.</summary>
public static class ImportJobs
{
    static readonly string[] Ended = ["succeeded", "succeeded_with_errors", "failed", "cancelled"];

    public static HttpClient AdminClient(Uri url) =>
        new() { BaseAddress = url, Timeout = Timeout.InfiniteTimeSpan, DefaultRequestHeaders = { { "X-Api-Key", BenchPlace.AdminKey } } };

    /// <summary>The job as it ended (JSON); throws unless it <c>succeeded</c>.</summary>
    public static async Task<JsonElement> RunAsync(Uri url, string catalog, string? images)
    {
        using var http = AdminClient(url);
        using var form = new MultipartFormDataContent();
        await using var catalogStream = File.OpenRead(catalog);
        form.Add(new StreamContent(catalogStream), "catalog", Path.GetFileName(catalog));
        await using var imagesStream = images is null ? null : File.OpenRead(images);
        if (imagesStream is not null)
        {
            var zip = new StreamContent(imagesStream);
            zip.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
            form.Add(zip, "images", Path.GetFileName(images!));
        }
        using var posted = await http.PostAsync(new Uri("/imports", UriKind.Relative), form);
        posted.EnsureSuccessStatusCode();
        var id = (await posted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        while (true)
        {
            var job = await http.GetFromJsonAsync<JsonElement>(new Uri($"/imports/{id}", UriKind.Relative));
            var status = job.GetProperty("status").GetString();
            if (Ended.Contains(status))
                return status == "succeeded" ? job : throw new InvalidOperationException($"bench import: the job ended {status}: {job}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }
}
