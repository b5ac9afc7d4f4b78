using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Similarity.Hosting;

/// <summary>
/// How much encoder work the process takes at once: a concurrency limit with a bounded queue, shared by the
/// encoder routes (through ASP.NET Core's rate limiter, see <see cref="RateLimits"/>) and the import worker,
/// which holds <see cref="RateLimitOptions.ImportShare"/> permits while a batch runs through the encoders.
/// Permits are granted oldest first, so neither side can starve the other.
/// </summary>
public sealed partial class EncoderCapacity : IDisposable
{
    readonly ConcurrencyLimiter _limiter;
    readonly int _importShare;
    readonly ILogger<EncoderCapacity> _logger;

    public EncoderCapacity(IOptions<RateLimitOptions> options, ILogger<EncoderCapacity> logger)
    {
        var o = options.Value;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = o.EncoderConcurrency,
            QueueLimit = o.EncoderQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _importShare = o.ImportShare;
        _logger = logger;
        ForRequests = new NeverIdle(_limiter);
    }

    /// <summary>
    /// The limiter as the HTTP rate limiter sees it. The rate limiter disposes partition limiters that sit idle;
    /// this one is shared with the import worker and lives as long as the service, so the rate limiter gets a
    /// view that is never idle and that it cannot dispose.
    /// </summary>
    public RateLimiter ForRequests { get; }

    /// <summary>Permits in use and requests queued (metrics, tests).</summary>
    public RateLimiterStatistics? Statistics => _limiter.GetStatistics();

    /// <summary>
    /// Waits for the import worker's share of the encoders. When the queue is full of requests, the import waits
    /// a second and asks again rather than failing the job: it is the work that can best afford to wait.
    /// </summary>
    public async Task<RateLimitLease> AcquireImportShareAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var lease = await _limiter.AcquireAsync(_importShare, cancellationToken);
            if (lease.IsAcquired)
                return lease;
            lease.Dispose();
            LogImportWaits(_importShare);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    public void Dispose() => _limiter.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "The encoders' queue is full; the import waits for its share of {Permits} permits")]
    partial void LogImportWaits(int permits);

    sealed class NeverIdle(RateLimiter inner) : RateLimiter
    {
        public override TimeSpan? IdleDuration => null;

        public override RateLimiterStatistics? GetStatistics() => inner.GetStatistics();

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => inner.AttemptAcquire(permitCount);

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            inner.AcquireAsync(permitCount, cancellationToken);
    }
}
