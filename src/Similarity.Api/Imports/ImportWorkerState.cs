using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Similarity.Imports;

/// <summary>
/// What /health/ready says of imports: unhealthy when a worker loop stopped or the spool cannot be written
/// (no upload could be stored, no job read); degraded while a worker's last pass failed.
/// </summary>
public sealed partial class ImportWorkerState(ImportSpool spool, IOptions<ImportOptions> options, ILogger<ImportWorkerState> logger) : IHealthCheck
{
    readonly int[] _state = new int[options.Value.Workers]; // 0 running, 1 last pass failed, 2 stopped

    public void PassSucceeded(int worker) => Interlocked.CompareExchange(ref _state[worker], 0, 1);

    public void PassFailed(int worker) => Interlocked.CompareExchange(ref _state[worker], 1, 0);

    public void Stopped(int worker) => Volatile.Write(ref _state[worker], 2);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var states = Enumerable.Range(0, _state.Length).Select(i => Volatile.Read(ref _state[i])).ToArray();
        var data = new Dictionary<string, object> { ["workers"] = states.Length, ["stopped"] = states.Count(s => s == 2) };
        if (states.Contains(2))
            return Task.FromResult(HealthCheckResult.Unhealthy("An import worker loop stopped (logged); jobs wait.", data: data));
        if (spool.Problem() is { } problem)
        {
            LogSpoolUnwritable(spool.Root, problem);
            return Task.FromResult(HealthCheckResult.Unhealthy("Imports cannot run: the spool folder (Similarity:Imports:SpoolPath) cannot be written (logged).", data: data));
        }
        return Task.FromResult(states.Contains(1)
            ? HealthCheckResult.Degraded("An import worker's last pass failed (logged); it goes on.", data: data)
            : HealthCheckResult.Healthy("Import workers running; the spool is writable.", data));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The import spool {Root} cannot be written")]
    partial void LogSpoolUnwritable(string root, Exception exception);
}
