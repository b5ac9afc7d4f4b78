using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Similarity.Bench;

/// <summary>
/// <c>bench upload</c>: how long POST /imports takes to answer 202 for a one-row catalog and for one of <c>--rows</c> rows
/// (default: the 5 000 000-row limit), against the plain cost of sending the same bytes (a local server that reads and
/// discards them); then how long the job spends on the checks that follow the 202 (counting the rows), read off the job.
/// </summary>
public static class UploadRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rows = BenchArgs.Parse(args, "upload", "rows").GetInt("rows", 5_000_000);
        var place = new BenchPlace();
        var work = place.Work("bench-upload");
        var big = Path.Combine(work, $"catalog-{rows}.csv");
        if (!File.Exists(big) || new FileInfo(big).Length == 0)
            await WriteCatalogAsync(big, rows);
        var one = Path.Combine(work, "catalog-1.csv");
        await File.WriteAllTextAsync(one, "sku,title\nup-1,One item\n");
        const string db = "similarity_bench_upload";
        await place.RecreateAsync(db);
        if (Directory.Exists(Path.Combine(place.DataDir, "bench-spool")))
            Directory.Delete(Path.Combine(place.DataDir, "bench-spool"), recursive: true);
        await using var service = await ServiceProcess.StartAsync(place, place.ConnectionString(db), place.Manifest("tiny"), "http://127.0.0.1:18094", "bench-upload-api.log");
        using var http = ImportJobs.AdminClient(service.Url);

        var (smallStatus, smallSeconds, _) = await PostAsync(http, one);
        double plain;
        await using (var sink = await StartSinkAsync())
        {
            using var discard = new HttpClient { BaseAddress = new Uri(sink.Urls.First()), Timeout = Timeout.InfiniteTimeSpan };
            (_, plain, _) = await PostAsync(discard, big);
        }
        var (bigStatus, bigSeconds, answer) = await PostAsync(http, big);
        var id = JsonDocument.Parse(answer).RootElement.GetProperty("id").GetString();
        var counted = Stopwatch.StartNew();
        while (!(await http.GetFromJsonAsync<JsonElement>($"/imports/{id}")).GetProperty("counts").TryGetProperty("total", out var total) || total.ValueKind != JsonValueKind.Number)
        {
            if (counted.Elapsed > TimeSpan.FromMinutes(10))
                throw new TimeoutException("bench upload: the job never counted its rows");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
        var countedAfter = counted.Elapsed.TotalSeconds;
        await http.DeleteAsync($"/imports/{id}");
        Console.Write(new Markdown("measure", "value")
            .Add("POST /imports, 1 row: status, seconds to the answer", $"{smallStatus}, {Stats.F(smallSeconds, "F3")} s")
            .Add($"POST /imports, {rows} rows ({Stats.Mib(new FileInfo(big).Length)}): status, seconds to the answer", $"{bigStatus}, {Stats.F(bigSeconds, "F3")} s")
            .Add("the same body sent to a discard server (transfer alone)", $"{Stats.F(plain, "F3")} s")
            .Add($"POST / transfer alone, {rows} rows", Stats.Ratio(bigSeconds, plain))
            .Add("after the 202: until the job had counted its rows (its checks)", $"about {Stats.F(countedAfter)} s"));
        return 0;
    }

    /// <summary>POSTs the catalog as the CLI does (multipart, streamed from disk): the status, the seconds to the answer, the answer.</summary>
    static async Task<(int Status, double Seconds, string Answer)> PostAsync(HttpClient http, string catalog)
    {
        using var form = new MultipartFormDataContent();
        await using var file = File.OpenRead(catalog);
        form.Add(new StreamContent(file), "catalog", Path.GetFileName(catalog));
        var watch = Stopwatch.StartNew();
        using var response = await http.PostAsync(new Uri("/imports", UriKind.Relative), form);
        var answer = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, watch.Elapsed.TotalSeconds, answer);
    }

    /// <summary>A server on loopback that reads each request's body, discards it and answers 202.</summary>
    static async Task<WebApplication> StartSinkAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        app.Run(async http =>
        {
            await http.Request.Body.CopyToAsync(Stream.Null);
            http.Response.StatusCode = StatusCodes.Status202Accepted;
        });
        await app.StartAsync();
        return app;
    }

    static async Task WriteCatalogAsync(string path, int rows)
    {
        await using var writer = new StreamWriter(path);
        await writer.WriteLineAsync("sku,title,category,price");
        for (var i = 0; i < rows; i++)
            await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"up-{i:D8},Uploaded item number {i} in plain cotton,shirts,{i % 300}.99"));
    }
}
