using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Similarity.Hosting;

namespace Similarity.Health;

public static class HealthApi
{
    /// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: every check tagged "ready" passes.</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("/health").WithTags("Health");
        health.MapGet("/live", (HealthCheckService checks, CancellationToken ct) => Report(checks, _ => false, new HashSet<string>(), ct))
            .WithName("Live").WithSummary("The process is up.")
            .WithDescription("For a liveness probe: 200 while the process answers; it checks nothing else.")
            .Produces<HealthResponse>();
        health.MapGet("/ready", (HealthCheckService checks, IOptions<HealthCheckServiceOptions> options, CancellationToken ct) =>
                Report(checks, c => c.Tags.Contains(HealthTags.Ready) || c.Tags.Contains(HealthTags.Duty), DutiesOf(options.Value), ct))
            .WithName("Ready").WithSummary("The database, its schema and the models are ready to serve the storefront.")
            .WithDescription("For a readiness probe: 503 while the storefront cannot be served (database, schema, models, encoders); " +
                "Degraded (still 200) while the vector index is being built or a background duty (imports, neighbour lists) has failed " +
                "or stopped, which its entry says. Entries name each check; no exception text.")
            .Produces<HealthResponse>().Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>
    /// The common health-check JSON shape: overall status, total duration, one entry per check. Public, so it
    /// carries no exception text: a failing check's exception goes to the log (HealthCheckService logs it).
    /// </summary>
    public sealed record HealthResponse(string Status, string TotalDuration, IReadOnlyDictionary<string, HealthEntry> Entries);

    public sealed record HealthEntry(string Status, string? Description, string Duration, IReadOnlyDictionary<string, object> Data);

    static HashSet<string> DutiesOf(HealthCheckServiceOptions options) =>
        [.. options.Registrations.Where(r => r.Tags.Contains(HealthTags.Duty)).Select(r => r.Name)];

    /// <summary>The worst status of the checks, where a duty's failure counts as Degraded at worst.</summary>
    public static HealthStatus Overall(IEnumerable<(string Name, HealthStatus Status)> entries, IReadOnlySet<string> duties) =>
        entries.Select(e => duties.Contains(e.Name) && e.Status == HealthStatus.Unhealthy ? HealthStatus.Degraded : e.Status)
            .DefaultIfEmpty(HealthStatus.Healthy).Min();

    static async Task<IResult> Report(HealthCheckService checks, Func<HealthCheckRegistration, bool> predicate, IReadOnlySet<string> duties, CancellationToken ct)
    {
        var report = await checks.CheckHealthAsync(predicate, ct);
        var overall = Overall(report.Entries.Select(e => (e.Key, e.Value.Status)), duties);
        var body = new HealthResponse(
            overall.ToString(),
            report.TotalDuration.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthEntry(
                e.Value.Status.ToString(), e.Value.Description, e.Value.Duration.ToString(), e.Value.Data)));
        var status = overall == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        return TypedResults.Json(body, statusCode: status);
    }
}
