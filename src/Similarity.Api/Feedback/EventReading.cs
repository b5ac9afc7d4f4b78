using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Similarity.Catalog;

namespace Similarity.Feedback;

/// <summary>
/// Reads one event of a <c>POST /events</c> batch from its JSON object and holds it to the rules: an event is valid
/// whole or rejected naming the first field at fault, so one bad event never sinks its batch. Timestamps are accepted
/// from <see cref="MaxAge"/> ago to <see cref="MaxAhead"/> ahead of the service's clock. Pure: no database, no HTTP.
/// </summary>
public static partial class EventReading
{
    public const int MaxEventId = 64, MaxPosition = 1000, MaxQuantity = 1_000_000;
    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(72), MaxAhead = TimeSpan.FromMinutes(5);
    const decimal MaxPrice = 9_999_999_999m;

    static readonly HashSet<string> Fields = new(StringComparer.Ordinal)
    {
        "eventId", "type", "visitorId", "sessionId", "sku", "sourceSku", "requestId", "position", "timestamp", "quantity", "price", "currency",
    };

    [GeneratedRegex(@"^[A-Z]{3}\z")]
    private static partial Regex CurrencyPattern();

    /// <summary>The event's id as sent, when it is a string (to name the event in its outcome even if it is invalid).</summary>
    public static string? IdOf(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("eventId", out var id) && id.ValueKind == JsonValueKind.String
            ? FieldRules.Quote(id.GetString()!) : null;

    /// <summary>The event, or the field at fault and why.</summary>
    public static (FeedbackEvent? Event, string? Field, string? Reason) Read(JsonElement element, DateTimeOffset now)
    {
        if (element.ValueKind != JsonValueKind.Object)
            return (null, "event", "An event is a JSON object.");
        foreach (var property in element.EnumerateObject())
        {
            if (!Fields.Contains(property.Name))
                return (null, FieldRules.Quote(property.Name), $"'{FieldRules.Quote(property.Name)}' is not an event field: events take {string.Join(", ", Fields)}.");
        }
        if (!Text(element, "eventId", required: true, out var eventId, out var idProblem) || eventId!.Length > MaxEventId
            || eventId.Any(char.IsControl))
            return (null, "eventId", idProblem ?? $"The eventId must be 1–{MaxEventId} printable characters.");
        if (!Text(element, "type", required: true, out var type, out var typeProblem) || !EventTypes.All.Contains(type, StringComparer.Ordinal))
            return (null, "type", typeProblem ?? $"'{FieldRules.Quote(type!)}' is not an event type: type takes {string.Join(", ", EventTypes.All)}.");
        if (!Text(element, "visitorId", required: true, out var visitor, out var visitorProblem))
            return (null, "visitorId", visitorProblem);
        if (VisitorIds.Problem("visitorId", visitor) is { } badVisitor)
            return (null, "visitorId", badVisitor);
        if (!Text(element, "sessionId", required: false, out var session, out var sessionProblem))
            return (null, "sessionId", sessionProblem);
        if (VisitorIds.Problem("sessionId", session) is { } badSession)
            return (null, "sessionId", badSession);
        if (!Text(element, "sku", required: true, out var sku, out var skuProblem) || !Sku.IsValid(sku))
            return (null, "sku", skuProblem ?? $"'{FieldRules.Quote(sku!)}' is not a SKU ({Sku.Rule}).");
        if (!Text(element, "sourceSku", required: false, out var sourceSku, out var sourceProblem) || sourceSku is not null && !Sku.IsValid(sourceSku))
            return (null, "sourceSku", sourceProblem ?? $"'{FieldRules.Quote(sourceSku!)}' is not a SKU ({Sku.Rule}).");
        if (!Text(element, "requestId", required: false, out var requestText, out var requestProblem))
            return (null, "requestId", requestProblem);
        Guid? requestId = null;
        if (requestText is not null)
        {
            if (!Guid.TryParseExact(requestText, "D", out var parsed))
                return (null, "requestId", "The requestId is the requestId of a served list: a UUID like 0193a5c2-7d4e-7b21-9c3f-2a1b0c9d8e7f.");
            requestId = parsed;
        }
        if (!Whole(element, "position", 1, MaxPosition, out var position, out var positionProblem))
            return (null, "position", positionProblem);
        if (position is not null && requestId is null)
            return (null, "position", "A position is a place in a served list: send it with that list's requestId.");
        if (!Text(element, "timestamp", required: true, out var stamp, out var stampProblem))
            return (null, "timestamp", stampProblem);
        if (!DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.None, out var occurred) || !HasOffset(stamp!))
            return (null, "timestamp", "The timestamp is an ISO 8601 date and time with its offset, like 2026-12-06T10:15:00Z.");
        if (occurred < now - MaxAge || occurred > now + MaxAhead)
            return (null, "timestamp", $"The timestamp must be within the last {MaxAge.TotalHours:0} hours and at most {MaxAhead.TotalMinutes:0} minutes ahead of the service's clock ({now:O}).");

        var purchase = type == EventTypes.Purchase;
        if (!Whole(element, "quantity", 1, MaxQuantity, out var quantity, out var quantityProblem))
            return (null, "quantity", quantityProblem);
        if (!Text(element, "currency", required: false, out var currency, out var currencyProblem) || currency is not null && !CurrencyPattern().IsMatch(currency))
            return (null, "currency", currencyProblem ?? "The currency must be a three-letter ISO 4217 code like EUR.");
        decimal? price = null;
        if (element.TryGetProperty("price", out var priceElement) && priceElement.ValueKind != JsonValueKind.Null)
        {
            if (priceElement.ValueKind != JsonValueKind.Number || !priceElement.TryGetDecimal(out var p) || p < 0 || p > MaxPrice || decimal.Round(p, 4) != p)
                return (null, "price", $"The price is a number from 0 to {MaxPrice} with at most 4 decimals.");
            price = p;
        }
        if (!purchase && (quantity ?? price ?? (object?)currency) is not null)
        {
            var which = quantity is not null ? "quantity" : price is not null ? "price" : "currency";
            return (null, which, $"Only a purchase carries {which}; this event is a {type}.");
        }
        if (purchase && quantity is null)
            return (null, "quantity", "A purchase needs its quantity (1 or more).");
        if (purchase && price is not null && currency is null)
            return (null, "currency", "A purchase's price needs its currency.");
        return (new FeedbackEvent(eventId, type!, visitor!, session, sku!, sourceSku, requestId, (short?)position, occurred.ToUniversalTime(),
            quantity, price, currency), null, null);
    }

    /// <summary>A string field: false with the problem when it is there but not a storable string, or required and missing.</summary>
    static bool Text(JsonElement element, string name, bool required, out string? value, out string? problem)
    {
        value = null;
        problem = null;
        if (!element.TryGetProperty(name, out var property) || property.ValueKind == JsonValueKind.Null)
        {
            problem = required ? $"The {name} is required." : null;
            return !required;
        }
        if (property.ValueKind != JsonValueKind.String)
        {
            problem = $"The {name} is a string.";
            return false;
        }
        value = property.GetString()!;
        problem = FieldRules.TextProblem(name, value, 1000) ?? (required && value.Length == 0 ? $"The {name} is empty." : null);
        return problem is null;
    }

    static bool Whole(JsonElement element, string name, int min, int max, out int? value, out string? problem)
    {
        value = null;
        problem = null;
        if (!element.TryGetProperty(name, out var property) || property.ValueKind == JsonValueKind.Null)
            return true;
        if (property.ValueKind == JsonValueKind.Number && property.TryGetInt32(out var number) && number >= min && number <= max)
        {
            value = number;
            return true;
        }
        problem = $"The {name} is a whole number from {min} to {max}.";
        return false;
    }

    // DateTimeOffset.TryParse takes a time without offset as local time: the service's clock zone must not matter.
    static bool HasOffset(string stamp) => stamp.EndsWith('Z') || stamp.EndsWith('z') || stamp.Length > 6 && stamp[^6] is '+' or '-' && stamp[^3] == ':';
}
