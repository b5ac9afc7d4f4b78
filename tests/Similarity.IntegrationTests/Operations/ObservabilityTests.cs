using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Operations;

public sealed class ObservabilityTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    [Fact]
    public async Task An_incoming_traceparent_is_the_trace_id_of_the_problem_details_and_of_the_requests_log_lines()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/items/no-such-item");
        request.Headers.Add("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01");

        var response = await app.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(TraceId, problem.GetProperty("traceId").GetString());
        Assert.Contains(app.Logs.Entries, e => e.TraceId == TraceId && e.Message.Contains("/items/no-such-item", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_are_scraped_in_prometheus_format_with_http_database_and_runtime_figures()
    {
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode); // a request and a query to count

        var response = await client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("http_server_request_duration_seconds_count{", text, StringComparison.Ordinal);
        Assert.Contains("db_client_connection_count{", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_collections", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_services_own_figures_are_scraped_and_an_import_logs_its_start_and_end_with_counts()
    {
        var admin = app.CreateAdminClient();
        var job = await admin.WaitForEndAsync((await admin.StartAsync(ImportClient.Form("sku,title\nmetric-1,Blue mug\nmetric-2,Red mug\nmetric-3,\n"))).Id);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/similar/metric-1?k=1")).StatusCode);
        // The worker logs and counts a job's end just after writing its status: wait for that, not for the clock.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!app.Logs.Entries.Any(e => e.Message.Contains($"Import {job.Id} succeeded_with_errors:", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, "the import's end was never logged");
            await Task.Delay(20);
        }

        string[] expected =
        [
            """similarity_import_rows_total\{[^}]*outcome="inserted"[^}]*\} [1-9]""",
            """similarity_import_rows_total\{[^}]*outcome="error"[^}]*\} [1-9]""",
            """similarity_import_jobs_total\{[^}]*status="succeeded_with_errors"[^}]*\} [1-9]""",
            """similarity_similar_duration_seconds_count\{[^}]*path="(precomputed|approximate|exact|fallback)"[^}]*\} [1-9]""",
            // The import's titles went through the text model; the queues are read at the scrape (empty by now).
            """similarity_encoder_batch_size_count\{[^}]*model="text"[^}]*\} [1-9]""",
            """similarity_encoder_inference_duration_seconds_count\{[^}]*model="text"[^}]*\} [1-9]""",
            """similarity_encoder_queued\{[^}]*model="image"[^}]*\} 0""",
            """similarity_encoder_queued\{[^}]*model="text"[^}]*\} 0""",
        ];
        // Every figure is counted before the job's end is logged, and a scrape collects what is counted at that moment.
        var text = await admin.GetStringAsync("/metrics");

        foreach (var pattern in expected)
            Assert.Matches(pattern, text);
        Assert.Contains(app.Logs.Entries, e => e.Message.Contains($"Import {job.Id} (native) running from row 0", StringComparison.Ordinal));
        Assert.Contains(app.Logs.Entries, e => e.Message.Contains($"Import {job.Id} succeeded_with_errors: 3 rows, 2 inserted", StringComparison.Ordinal)
            && e.Message.Contains("1 errors", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Another_service_in_the_process_stopping_leaves_this_ones_figures_counting()
    {
        var admin = app.CreateAdminClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health/live")).StatusCode); // this service's meters exist

        // A second service starts and stops beside it, as test classes do in one process.
        var other = new SimilarityApp();
        await ((IAsyncLifetime)other).InitializeAsync();
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await other.CreateClient().GetAsync("/health/live")).StatusCode);
        }
        finally
        {
            await ((IAsyncLifetime)other).DisposeAsync();
        }

        // A stream OpenTelemetry has ended is exported once more, then dropped: the figures below are read at the second scrape.
        Assert.Contains("target_info", await admin.GetStringAsync("/metrics"), StringComparison.Ordinal);
        await admin.PutItemAsync(new TestItem("after-the-other", "Green teapot"));
        await admin.SimilarAsync("after-the-other", "?k=1");
        var text = await admin.GetStringAsync("/metrics");
        Assert.Matches("""similarity_similar_duration_seconds_count\{[^}]*\} [1-9]""", text);

        // ASP.NET Core records a request's duration when the request ends, after its answer reached the client: the
        // scrape may come first, so it waits for the figure (it never came, before the meters were scoped per host).
        var route = new System.Text.RegularExpressions.Regex("""http_server_request_duration_seconds_count\{[^}]*http_route="/similar/\{sku\}"[^}]*\} [1-9]""");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!route.IsMatch(text))
        {
            Assert.True(DateTime.UtcNow < deadline, "/similar's request duration never showed in /metrics");
            await Task.Delay(50);
            text = await admin.GetStringAsync("/metrics");
        }
    }

    /// <summary>A collector on loopback that counts what the service's OTLP exporter sends it.</summary>
    sealed class Collector : IAsyncDisposable
    {
        readonly WebApplication _app;

        public ConcurrentBag<string> Paths { get; } = [];

        public Uri Address { get; }

        Collector(WebApplication app, Uri address) => (_app, Address) = (app, address);

        public static async Task<Collector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            Collector? collector = null;
            // An empty protobuf message is a valid, empty Export*ServiceResponse.
            app.MapPost("/v1/{signal}", (HttpContext http, string signal) =>
            {
                collector!.Paths.Add(signal);
                return Results.Bytes([], "application/x-protobuf");
            });
            await app.StartAsync();
            collector = new Collector(app, new Uri(app.Urls.First()));
            return collector;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    sealed class ExportingApp(Uri collector) : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
            [new("OTEL_EXPORTER_OTLP_ENDPOINT", collector.ToString().TrimEnd('/')), new("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
             // Metrics every 200 ms while it runs: the test need not rely on the flush at shutdown alone, which another
             // host stopping in the same process can cut short (see the test below).
             new("OTEL_METRIC_EXPORT_INTERVAL", "200")];
    }

    [Fact]
    public async Task With_an_otlp_endpoint_set_traces_and_metrics_are_exported_to_it()
    {
        await using var collector = await Collector.StartAsync();
        var exporting = new ExportingApp(collector.Address);
        await ((IAsyncLifetime)exporting).InitializeAsync();
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await exporting.CreateClient().GetAsync("/health/live")).StatusCode);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!collector.Paths.Contains("metrics"))
            {
                Assert.True(DateTime.UtcNow < deadline, "no metrics were exported in 30 s");
                await Task.Delay(50);
            }
        }
        finally
        {
            await ((IAsyncLifetime)exporting).DisposeAsync(); // shutting down flushes what is batched
        }

        Assert.Contains("traces", collector.Paths);
        Assert.Contains("metrics", collector.Paths);
    }

    /// <summary>
    /// The per-signal endpoints name the collector, but not <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, the one setting that
    /// turns OTLP on: an exporter that was (wrongly) always on would read them and send to the collector.
    /// </summary>
    sealed class PerSignalEndpointsOnlyApp(Uri collector) : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [
            new("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", new Uri(collector, "v1/traces").ToString()),
            new("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", new Uri(collector, "v1/metrics").ToString()),
            new("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ];
    }

    [Fact]
    public async Task Without_an_otlp_endpoint_nothing_is_exported()
    {
        await using var collector = await Collector.StartAsync();
        var quiet = new PerSignalEndpointsOnlyApp(collector.Address);
        await ((IAsyncLifetime)quiet).InitializeAsync();
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await quiet.CreateClient().GetAsync("/health/live")).StatusCode);
        }
        finally
        {
            await ((IAsyncLifetime)quiet).DisposeAsync(); // shutting down would flush what an exporter had batched
        }

        Assert.Empty(collector.Paths);
        Assert.DoesNotContain(quiet.Logs.Entries, e => e.Category.StartsWith("OpenTelemetry", StringComparison.Ordinal) && e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }
}
