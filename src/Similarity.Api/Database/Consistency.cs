using System.Diagnostics;
using System.Diagnostics.Metrics;
using Npgsql;
using NpgsqlTypes;
using Similarity.Hosting;

namespace Similarity.Database;

/// <summary>
/// Read-your-writes over standbys (several hosts only; with one host this middleware passes every request through).
/// A write's successful answer carries <c>X-Consistency-Token</c>: the primary's WAL position once the write has
/// committed. A read that sends the token back first waits, at most <see cref="DatabaseOptions.ConsistencyWait"/>, for
/// the standbys to replay it; standbys still behind then are left out of the reads until they have, so the read runs
/// on one that has or on the primary. An admin's read waits for the primary's position at its arrival in the same way,
/// so it never sees the past, whatever its own writes sent back. Every answer names the role that served it (<see cref="ServedBy"/>).
/// </summary>
public static partial class Consistency
{
    public const string TokenHeader = "X-Consistency-Token";

    /// <summary>After the key check (an admin read is told apart by its key), before the endpoints.</summary>
    public static WebApplication UseConsistency(this WebApplication app)
    {
        app.UseMiddleware<Middleware>();
        return app;
    }

    /// <summary>A token as the header carries it (PostgreSQL's <c>16/B374D848</c> form); null when it is not one.</summary>
    public static NpgsqlLogSequenceNumber? Parse(string? token) =>
        token is not null && NpgsqlLogSequenceNumber.TryParse(token, out var lsn) ? lsn : null;

    static bool IsWrite(string method) => HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    sealed partial class Middleware(RequestDelegate next, DatabaseHosts hosts, StandbyWatch watch, ServedBy servedBy,
        IMeterFactory meters, ILogger<Middleware> logger)
    {
        readonly Histogram<double> _waits = meters.Create(SimilarityMetrics.MeterName).CreateHistogram<double>(
            "similarity.database.consistency_wait", "s", "Time a read waited for the standbys to replay its token, by outcome (replayed, leftOut).",
            // The wait is bounded at ConsistencyWait (90 ms by default, so that with the timer's overshoot it stays under 100 ms): buckets around it, not the seconds-wide defaults.
            advice: new() { HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.11, 0.2, 0.5, 1] });

        public async Task InvokeAsync(HttpContext context)
        {
            if (!hosts.HasStandbys)
            {
                await next(context);
                return;
            }
            var request = servedBy.Begin();
            context.Response.OnStarting(() => AnswerAsync(context, request));
            if (!IsWrite(context.Request.Method))
                await WaitAsync(context);
            await next(context);
        }

        async Task WaitAsync(HttpContext context)
        {
            var token = Parse(context.Request.Headers[TokenHeader]);
            var admin = ApiCaller.Of(context)?.Role == ApiKeyRole.Admin;
            if (token is null && !admin)
                return;
            try
            {
                var position = admin ? await watch.PrimaryPositionAsync(context.RequestAborted) : token!.Value;
                var started = Stopwatch.GetTimestamp(); // the wait for the standbys alone, the primary's position read before it
                var replayed = await watch.WaitForReplayAsync(position, context.RequestAborted);
                _waits.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", replayed ? "replayed" : "leftOut"));
            }
            catch (NpgsqlException ex)
            {
                // The read itself will meet the same fault and answer for it (503); the wait adds nothing.
                LogWaitFailed(ex);
            }
        }

        async Task AnswerAsync(HttpContext context, ServedBy.Request request)
        {
            if (request.Role is { } role)
            {
                context.Response.Headers[ServedBy.HeaderName] = role;
                servedBy.Count(role);
            }
            if (!IsWrite(context.Request.Method) || context.Response.StatusCode is < 200 or >= 300)
                return;
            try
            {
                context.Response.Headers[TokenHeader] = (await watch.PrimaryPositionAsync(context.RequestAborted)).ToString();
            }
            catch (NpgsqlException ex)
            {
                // The write has committed and answers; only the token is missing, and a read without one is served as ever.
                LogTokenFailed(ex);
            }
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "A read's wait for the standbys failed")]
        partial void LogWaitFailed(Exception exception);

        [LoggerMessage(Level = LogLevel.Warning, Message = "A write's consistency token could not be read from the primary")]
        partial void LogTokenFailed(Exception exception);
    }
}
