using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Similarity.Hosting;

/// <summary>
/// <c>Similarity:RateLimits</c>: how much encoder work one client, and everyone together, may ask for. Only the
/// routes that run the encoders are limited; <c>/similar</c> and every GET never are. A request with a recognised
/// API key draws from its key's bucket; one without a key from its address's (<c>PerClient*</c>).
/// </summary>
public sealed class RateLimitOptions : IValidatableObject
{
    public const string Section = "Similarity:RateLimits";

    /// <summary>Encoder requests one client (remote address) may send at once before its bucket is empty.</summary>
    [Range(1, 1_000_000)] public int PerClientBurst { get; set; } = 20;

    /// <summary>Encoder requests per second one client's bucket regains.</summary>
    [Range(1, 1_000_000)] public int PerClientPerSecond { get; set; } = 10;

    /// <summary>
    /// How often a bucket (an address's or a key's) regains its tokens: its per-second count every this many seconds.
    /// 1 in service; a test sets an hour for a bucket that does not refill while it runs, however slow the machine.
    /// </summary>
    [Range(1, 86_400)] public int PerClientRefillSeconds { get; set; } = 1;

    /// <summary>
    /// Encoder requests one API key may send at once: the bootstrap admin key's, and a created key's unless its
    /// creation says otherwise. High enough that a storefront's backend, sending for a whole shop, is never throttled
    /// by it; <see cref="EncoderConcurrency"/> and <see cref="EncoderQueue"/> still guard the encoders.
    /// </summary>
    [Range(1, 1_000_000)] public int PerKeyBurst { get; set; } = 1000;

    /// <summary>Encoder requests per second one API key's bucket regains (default for created keys, as above).</summary>
    [Range(1, 1_000_000)] public int PerKeyPerSecond { get; set; } = 500;

    /// <summary>Encoder requests (and import batches, see <see cref="ImportShare"/>) in the encoders at once.</summary>
    [Range(1, 10_000)] public int EncoderConcurrency { get; set; } = 16;

    /// <summary>Encoder requests waiting for <see cref="EncoderConcurrency"/>; their bodies are not read while they wait.</summary>
    [Range(0, 100_000)] public int EncoderQueue { get; set; } = 64;

    /// <summary>Permits of <see cref="EncoderConcurrency"/> the import worker holds while a batch runs through the encoders.</summary>
    [Range(1, 10_000)] public int ImportShare { get; set; } = 8;

    /// <summary>
    /// How long a refused request waits for its 429, its connection held and its body unread (0: at once). A flood that
    /// retries as soon as it is refused is slowed to one request per connection per this delay; refused at once, its
    /// refusals (and the new connection each one needs, see <see cref="RateLimits"/>) took the cores /similar needs.
    /// </summary>
    [Range(0, 10_000)] public int RefusalDelayMilliseconds { get; set; } = 1000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ImportShare > EncoderConcurrency)
            yield return new ValidationResult(
                $"Similarity:RateLimits:ImportShare ({ImportShare}) cannot exceed Similarity:RateLimits:EncoderConcurrency ({EncoderConcurrency}).",
                [nameof(ImportShare)]);
    }
}

/// <summary>
/// ASP.NET Core's rate limiter in front of the encoder routes: a token bucket per client, then the shared
/// <see cref="EncoderCapacity"/>. Both answer 429 with <c>Retry-After</c> and a ProblemDetails naming the limit,
/// before the request's body is read.
/// </summary>
public static class RateLimits
{
    /// <summary>Marks an endpoint whose requests run the encoders.</summary>
    sealed record UsesEncoders;

    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<EncoderCapacity>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<EncoderCapacity, IOptions<RateLimitOptions>>((options, capacity, limits) =>
        {
            var o = limits.Value;
            var bucket = Bucket(o.PerClientBurst, o.PerClientPerSecond, o);
            // In order: the caller's own bucket (cheap to refuse), then a place in the shared capacity (may queue).
            // The caller is its key when the request sent a recognised one, else its address.
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context => !RunsEncoders(context)
                    ? RateLimitPartition.GetNoLimiter("")
                    : ApiCaller.Of(context) is { } key
                        ? RateLimitPartition.GetTokenBucketLimiter($"key:{key.Id?.ToString(CultureInfo.InvariantCulture) ?? key.Name}:{key.Burst}:{key.PerSecond}",
                            _ => Bucket(key.Burst, key.PerSecond, o))
                        : RateLimitPartition.GetTokenBucketLimiter("address:" + ClientOf(context), _ => bucket)),
                PartitionedRateLimiter.Create<HttpContext, string>(context => RunsEncoders(context)
                    ? RateLimitPartition.Get("encoders", _ => capacity.ForRequests)
                    : RateLimitPartition.GetNoLimiter("")));
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, ct) =>
            {
                // The refused request's body is unread: closing the connection spares reading it off the socket (a
                // flood of large uploads would otherwise cost its full bandwidth just to be refused).
                context.HttpContext.Response.Headers.Connection = "close";
                try
                {
                    await Task.Delay(o.RefusalDelayMilliseconds, ct);
                }
                catch (OperationCanceledException)
                {
                    return; // the client left while it waited: nobody to answer
                }
                await Reject(context, o);
            };
        });
        return builder;
    }

    static TokenBucketRateLimiterOptions Bucket(int burst, int perSecond, RateLimitOptions o) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(o.PerClientRefillSeconds),
        QueueLimit = 0,
    };

    static ValueTask Reject(OnRejectedContext context, RateLimitOptions o) => context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
                // Only the token bucket knows when its next token comes.
                ? ApiCaller.Of(context.HttpContext) is { } key
                    ? OverLimit.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many encoder requests with this API key.",
                        $"The key '{key.Name}' may send {key.Burst} encoder requests at once and {key.PerSecond} " + Every(o) + " after that " +
                        "(its burst and perSecond, set when it was created; Similarity:RateLimits:PerKeyBurst, PerKeyPerSecond by default).", retryAfter)
                    : OverLimit.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many encoder requests from this client.",
                    $"This client may send {o.PerClientBurst} encoder requests at once and {o.PerClientPerSecond} " + Every(o) + " after that " +
                    "(Similarity:RateLimits:PerClientBurst, PerClientPerSecond, PerClientRefillSeconds).", retryAfter)
                : OverLimit.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, "The encoders are busy.",
                    $"{o.EncoderConcurrency} encoder requests are running and {o.EncoderQueue} waiting " +
                    "(Similarity:RateLimits:EncoderConcurrency, EncoderQueue).", TimeSpan.FromSeconds(1));

    static string Every(RateLimitOptions o) => o.PerClientRefillSeconds == 1 ? "a second" : $"every {o.PerClientRefillSeconds} s";

    public static WebApplication UseRateLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }

    /// <summary>Puts the endpoint behind the per-client bucket and the shared encoder capacity.</summary>
    public static RouteHandlerBuilder RequireEncoderCapacity(this RouteHandlerBuilder builder) => builder
        .WithMetadata(new UsesEncoders())
        .ProducesProblem(StatusCodes.Status429TooManyRequests)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    static bool RunsEncoders(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<UsesEncoders>() is not null;

    /// <summary>The client's address. Behind a reverse proxy, configure forwarded headers so this is the user's.</summary>
    static string ClientOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
