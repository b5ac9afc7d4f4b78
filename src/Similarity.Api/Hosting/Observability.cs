using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Console;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Similarity.Hosting;

/// <summary>
/// Metrics and traces through OpenTelemetry — ASP.NET Core, Npgsql, the runtime and the service's own meter — a
/// Prometheus scrape endpoint at <c>/metrics</c>, OTLP export where <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and
/// the console log's shape: one readable line per event on a terminal, JSON (with the trace id) everywhere else.
/// </summary>
public static class Observability
{
    public const string ServiceName = "similarity";

    /// <summary>The name WithMetrics gives OpenTelemetry's IMetricsListener.</summary>
    const string OpenTelemetryListener = "OpenTelemetry";

    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithMetrics(metrics => metrics
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                // Every scrape reads the figures as they are; Prometheus scrapes every few seconds at most.
                .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = http => !http.Request.Path.StartsWithSegments("/metrics"))
                .AddNpgsql());
        // ASP.NET Core's meters and ours come from this host's IMeterFactory: listen to this host's alone (Local). Hosts in one
        // process (the tests') share meter names, and OpenTelemetry stops a stream when any meter of its name is disposed
        // (open-telemetry/opentelemetry-dotnet#6412). AddMeter cannot say Local, so these are enabled through IMetricsBuilder.
        builder.Services.AddMetrics(metrics => metrics
            .EnableMetrics("Microsoft.AspNetCore", listenerName: OpenTelemetryListener, scopes: MeterScope.Local)
            .EnableMetrics(SimilarityMetrics.MeterName, listenerName: OpenTelemetryListener, scopes: MeterScope.Local));
        // Only with a collector to send to: without one the exporter would keep trying a default address.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            telemetry.UseOtlpExporter();

        builder.Logging.AddConsoleFormatter<LineConsoleFormatter, ConsoleFormatterOptions>();
        builder.Services.Configure<ConsoleLoggerOptions>(options =>
            options.FormatterName = ConsoleFormat(builder.Configuration["Logging:Console:FormatterName"], outputIsTerminal: !Console.IsOutputRedirected));
        return builder;
    }

    /// <summary>The Prometheus scrape endpoint; not part of the API's OpenAPI document.</summary>
    public static WebApplication MapObservability(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint().ExcludeFromDescription();
        return app;
    }

    /// <summary>
    /// The console formatter: the one configured (<c>Logging:Console:FormatterName</c>), else one line per event for a
    /// person at a terminal, else JSON for whatever reads a file, a pipe or a container's log.
    /// </summary>
    internal static string ConsoleFormat(string? configured, bool outputIsTerminal) =>
        configured is { Length: > 0 } ? configured : outputIsTerminal ? LineConsoleFormatter.FormatterName : ConsoleFormatterNames.Json;
}
