using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Similarity.Health;

public static class HealthApi
{
    /// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: every check tagged "ready" passes.</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("/health").WithTags("Health");
        health.MapGet("/live", (HealthCheckService checks, CancellationToken ct) => Report(checks, _ => false, ct))
            .WithName("Live").WithSummary("The process is up.")
            .WithDescription("For a liveness probe: 200 while the process answers; it checks nothing else.")
            .Produces<HealthResponse>();
        health.MapGet("/ready", (HealthCheckService checks, CancellationToken ct) => Report(checks, c => c.Tags.Contains("ready"), ct))
            .WithName("Ready").WithSummary("The database, its schema and the models are ready to serve.")
            .WithDescription("For a readiness probe: 503 while a check fails (database, schema, models, encoders, import workers, spool), " +
                "Degraded (still 200) while the vector index is being built. Entries name each check; no exception text.")
            .Produces<HealthResponse>().Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>
    /// The common health-check JSON shape: overall status, total duration, one entry per check. Public, so it
    /// carries no exception text: a failing check's exception goes to the log (HealthCheckService logs it).
    /// </summary>
    public sealed record HealthResponse(string Status, string TotalDuration, IReadOnlyDictionary<string, HealthEntry> Entries);

    public sealed record HealthEntry(string Status, string? Description, string Duration, IReadOnlyDictionary<string, object> Data);

    static async Task<IResult> Report(HealthCheckService checks, Func<HealthCheckRegistration, bool> predicate, CancellationToken ct)
    {
        var report = await checks.CheckHealthAsync(predicate, ct);
        var body = new HealthResponse(
            report.Status.ToString(),
            report.TotalDuration.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthEntry(
                e.Value.Status.ToString(), e.Value.Description, e.Value.Duration.ToString(), e.Value.Data)));
        var status = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        return TypedResults.Json(body, statusCode: status);
    }
}
