using System.Buffers;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Similarity.Hosting;

namespace Similarity.Feedback;

/// <summary>
/// <c>POST /events</c>: what shoppers did with the lists the service served, from the shop's backend (a storefront or
/// admin key), up to <see cref="EventIngest.MaxEvents"/> events or <see cref="EventIngest.MaxBytes"/> bytes a batch,
/// each answered on its own. <c>DELETE /visitors/{visitorId}</c> (admin): a visitor's rows erased.
/// </summary>
public static class EventsApi
{
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/events", PostAsync)
            .WithName("PostEvents").WithTags("Feedback")
            .WithSummary("Stores what shoppers did: views, clicks, add-to-carts and purchases, up to 1 000 events (2 MiB) a batch.")
            .WithDescription("JSON `{\"events\": [...]}`. Each event is answered on its own, in the order sent: `stored`, `duplicate` " +
                "(its eventId was stored before, or earlier in this batch) or `rejected` with the `field` at fault and the `reason`; " +
                "a bad event never sinks the batch. Timestamps are accepted from 72 hours ago to 5 minutes ahead. Send `requestId` and " +
                "`position` (1-based) when the event came from a list the service served. Send no personal data: `visitorId` is opaque.")
            .RequireStorefrontKey()
            .RequireRateLimiting(EventsCapacity.PolicyName)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .Accepts<EventsRequest>("application/json")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        app.MapDelete("/visitors/{visitorId}", DeleteVisitorAsync)
            .WithName("DeleteVisitor").WithTags("Feedback")
            .WithSummary("Erases a visitor: every event, served list and bot flag of theirs, and answers the counts.")
            .WithDescription("Learned aggregates (co-engagement, propensities) are rebuilt from the remaining rows, so they forget the " +
                "visitor at the next rebuild, at most a day later.")
            .RequireAdminKey();
        return app;
    }

    /// <summary>The body of <c>POST /events</c> (read by the handler itself, so each event is answered on its own).</summary>
    public sealed record EventsRequest([property: MinLength(1), MaxLength(EventIngest.MaxEvents)] IReadOnlyList<EventRequest> Events);

    /// <summary>One event as sent (the bounds are <see cref="EventReading"/>'s, which holds each event to them).</summary>
    public sealed record EventRequest(
        [property: MaxLength(EventReading.MaxEventId)] string EventId,
        [property: MaxLength(9)] string Type,
        [property: MaxLength(VisitorIds.MaxLength)] string VisitorId,
        [property: MaxLength(VisitorIds.MaxLength)] string? SessionId,
        [property: MaxLength(64), RegularExpression(Identifiers.SchemaPattern)] string Sku,
        [property: MaxLength(64), RegularExpression(Identifiers.SchemaPattern)] string? SourceSku,
        Guid? RequestId,
        [property: Range(1, EventReading.MaxPosition)] int? Position,
        DateTimeOffset Timestamp,
        [property: Range(1, EventReading.MaxQuantity)] int? Quantity,
        [property: Range(0, 9_999_999_999d)] decimal? Price,
        [property: MaxLength(3), RegularExpression("^[A-Z]{3}$")] string? Currency);

    public sealed record ErasedVisitorResponse(string VisitorId, long Events, long ServedLists, long BotFlags);

    static async Task<Results<Ok<EventsAnswer>, ValidationProblem, ProblemHttpResult>> PostAsync(
        HttpRequest request, EventIngest ingest, CancellationToken ct)
    {
        if (request.ContentLength > EventIngest.MaxBytes)
            return TooLarge();
        using var body = await ReadAsync(request, ct);
        if (body is null)
            return TooLarge();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.Memory);
        }
        catch (JsonException ex)
        {
            var at = ex.LineNumber is { } line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : "";
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The body is not valid JSON{at}."] });
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array)
                return Invalid("events", "Send the events as {\"events\": [...]}.");
            foreach (var member in root.EnumerateObject().Where(p => p.Name != "events"))
                return Invalid(member.Name, $"Unknown member '{member.Name}' in the JSON body: the body is {{\"events\": [...]}}.");
            if (events.GetArrayLength() is 0 or > EventIngest.MaxEvents)
                return TypedResults.Problem(statusCode: events.GetArrayLength() == 0 ? StatusCodes.Status400BadRequest : StatusCodes.Status413PayloadTooLarge,
                    title: events.GetArrayLength() == 0 ? "No events." : "Too many events.",
                    detail: $"Send 1 to {EventIngest.MaxEvents} events a batch; this one has {events.GetArrayLength()}.");
            return TypedResults.Ok(await ingest.IngestAsync(events, ct));
        }
    }

    static async Task<Results<Ok<ErasedVisitorResponse>, ValidationProblem>> DeleteVisitorAsync(
        string visitorId, VisitorErasure erasure, CancellationToken ct)
    {
        if (VisitorIds.Problem("visitorId", visitorId) is { } problem)
            return Invalid("visitorId", problem);
        var erased = await erasure.EraseAsync(visitorId, ct);
        return TypedResults.Ok(new ErasedVisitorResponse(erased.VisitorId, erased.Events, erased.ServedLists, erased.BotFlags));
    }

    static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });

    static ProblemHttpResult TooLarge() => TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The batch is too large.",
        detail: $"A batch of events is at most {EventIngest.MaxBytes} bytes (2 MiB) and {EventIngest.MaxEvents} events: send it in smaller batches.");

    /// <summary>The body, or null as soon as it passes <see cref="EventIngest.MaxBytes"/> (the rest is never read).</summary>
    static async Task<PooledBody?> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is { } length ? (int)length + 1 : 64 * 1024);
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, EventIngest.MaxBytes + 1));
                buffer.AsSpan(0, filled).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }
            var read = await request.Body.ReadAsync(buffer.AsMemory(filled), ct);
            if (read == 0)
                break;
            filled += read;
            if (filled > EventIngest.MaxBytes)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return null;
            }
        }
        return new PooledBody(buffer, filled);
    }

    sealed class PooledBody(byte[] buffer, int length) : IDisposable
    {
        public ReadOnlyMemory<byte> Memory => buffer.AsMemory(0, length);

        public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>
    /// <c>/events</c>' own share of the service: at most <see cref="FeedbackOptions.EventsConcurrency"/> batches stored at
    /// once, <see cref="FeedbackOptions.EventsQueue"/> waiting, the rest a 429. A flood of events then holds a few of the
    /// database pool's connections, and /similar (never limited) keeps the rest.
    /// </summary>
    public sealed class EventsCapacity(IOptions<FeedbackOptions> options) : IRateLimiterPolicy<string>
    {
        public const string PolicyName = "events";

        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = (context, _) =>
        {
            var o = context.HttpContext.RequestServices.GetRequiredService<IOptions<FeedbackOptions>>().Value;
            context.HttpContext.Response.Headers.Connection = "close";
            return OverLimit.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many event batches at once.",
                $"{o.EventsConcurrency} batches of events are being stored and {o.EventsQueue} waiting " +
                "(Similarity:Feedback:EventsConcurrency, EventsQueue): send again in a moment.", TimeSpan.FromSeconds(1));
        };

        public RateLimitPartition<string> GetPartition(HttpContext httpContext) => RateLimitPartition.GetConcurrencyLimiter(PolicyName, _ => new()
        {
            PermitLimit = options.Value.EventsConcurrency,
            QueueLimit = options.Value.EventsQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }
}
