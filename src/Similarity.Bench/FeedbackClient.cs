using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Similarity.Bench;

/// <summary>A list served to a visitor: its <c>requestId</c> and its results with their per-modality cosines.</summary>
public sealed record ServedAnswer(Guid RequestId, IReadOnlyList<ShownItem> Results);

/// <summary>What <c>POST /events</c> answered for a set of batches: outcomes counted, and the first rejection's reason.</summary>
public sealed record EventOutcomes(int Stored, int Duplicate, int Rejected, string? FirstRejection)
{
    public EventOutcomes Add(EventOutcomes other) => new(Stored + other.Stored, Duplicate + other.Duplicate, Rejected + other.Rejected, FirstRejection ?? other.FirstRejection);
}

/// <summary>
/// The closed loop's HTTP API as <c>bench feedback</c> uses it, and nothing else: /similar (served and batch),
/// /events, /feedback/rebuild and /feedback/propensities, /experiments, /co-engaged, /models. Every call sends the
/// bench's admin key. <see cref="MissingAsync"/> names what the running service does not have yet.
/// </summary>
public sealed partial class FeedbackClient : IDisposable
{
    public const int EventBatch = 1000;

    /// <summary>The routes and parameters the bench drives (the contract's names), as its OpenAPI document must list them.</summary>
    static readonly (string Method, string Path, string? Parameter)[] Needed =
    [
        ("get", "/similar/{}", "visitorId"), ("get", "/similar/{}", "blend"), ("post", "/similar/batch", "blend"),
        ("post", "/events", null), ("post", "/feedback/rebuild", null), ("get", "/feedback/propensities", null),
        ("put", "/experiments/{}", null), ("get", "/experiments/{}", null), ("delete", "/experiments/{}", null),
        ("get", "/co-engaged/{}", null),
    ];

    readonly HttpClient _http;

    public FeedbackClient(Uri url) : this(ImportJobs.AdminClient(url)) { }

    /// <summary>Over a client of one's own (its base address the service's); disposed with this one.</summary>
    public FeedbackClient(HttpClient http) => _http = http;

    /// <summary>Each route (or route parameter) the bench needs that the service's OpenAPI document does not list.</summary>
    public async Task<IReadOnlyList<string>> MissingAsync()
    {
        using var document = JsonDocument.Parse(await _http.GetStringAsync(new Uri("/swagger/v1/swagger.json", UriKind.Relative)));
        var paths = document.RootElement.GetProperty("paths").EnumerateObject()
            .ToDictionary(p => Template().Replace(p.Name, "{}"), p => p.Value, StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var (method, path, parameter) in Needed)
        {
            var shown = $"{method.ToUpperInvariant()} {path.Replace("{}", path.StartsWith("/experiments", StringComparison.Ordinal) ? "{name}" : "{sku}", StringComparison.Ordinal)}";
            if (!paths.TryGetValue(path, out var item) || !item.TryGetProperty(method, out var operation))
                missing.Add(shown);
            else if (parameter is not null && !(operation.TryGetProperty("parameters", out var parameters)
                && parameters.EnumerateArray().Any(p => p.TryGetProperty("name", out var name) && name.GetString() == parameter)))
                missing.Add($"{shown}?{parameter}=");
        }
        return missing.Distinct(StringComparer.Ordinal).ToArray();
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Template();

    /// <summary>GET /similar/{sku} for a visitor (the ranker the service serves by default); throws when it carries no requestId.</summary>
    public async Task<ServedAnswer> ServeAsync(string sku, string visitorId, int k = FeedbackMetrics.K)
    {
        var answer = await GetJsonAsync($"/similar/{Uri.EscapeDataString(sku)}?k={k}&visitorId={Uri.EscapeDataString(visitorId)}");
        if (!answer.TryGetProperty("requestId", out var id) || !Guid.TryParse(id.GetString(), out var requestId))
            throw new InvalidOperationException($"GET /similar/{sku} answered without a requestId: the served log's request ids are missing.");
        return new ServedAnswer(requestId, [.. answer.GetProperty("results").EnumerateArray().Select(Shown)]);
    }

    static ShownItem Shown(JsonElement r) => new(r.GetProperty("sku").GetString()!, Number(r, "imageScore"), Number(r, "textScore"));

    static double? Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    /// <summary>The nearest items of <paramref name="sku"/> by picture or by words alone (content only), with that cosine.</summary>
    public async Task<IReadOnlyList<(string Sku, double Cosine)>> NearestAsync(string sku, Judgement by, int k)
    {
        var weights = by == Judgement.Picture ? "imageWeight=1&textWeight=0" : "imageWeight=0&textWeight=1";
        var answer = await GetJsonAsync($"/similar/{Uri.EscapeDataString(sku)}?k={k}&blend=0&{weights}");
        return [.. answer.GetProperty("results").EnumerateArray().Select(Shown)
            .Where(r => (by == Judgement.Picture ? r.ImageScore : r.TextScore) is not null)
            .Select(r => (r.Sku, (by == Judgement.Picture ? r.ImageScore : r.TextScore)!.Value))];
    }

    /// <summary>The top <paramref name="k"/> SKUs of each query item through POST /similar/batch (null blend: the service's default).</summary>
    public async Task<Dictionary<string, string[]>> TopAsync(IReadOnlyCollection<string> skus, double? blend, int k = FeedbackMetrics.K)
    {
        var tops = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var query = blend is { } b ? string.Create(CultureInfo.InvariantCulture, $"&blend={b}") : "";
        foreach (var chunk in skus.Chunk(100))
        {
            using var posted = await _http.PostAsJsonAsync(new Uri($"/similar/batch?k={k}{query}", UriKind.Relative), new { skus = chunk });
            await ThrowUnlessOkAsync(posted, "POST /similar/batch");
            foreach (var item in (await posted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray())
                tops[item.GetProperty("sku").GetString()!] = [.. item.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("sku").GetString()!)];
        }
        return tops;
    }

    /// <summary>POST /events in batches of <see cref="EventBatch"/>; the outcomes counted.</summary>
    public async Task<EventOutcomes> SendAsync(IReadOnlyList<ShopperEvent> events)
    {
        var total = new EventOutcomes(0, 0, 0, null);
        foreach (var batch in events.Chunk(EventBatch))
        {
            using var posted = await _http.PostAsJsonAsync(new Uri("/events", UriKind.Relative), new { events = batch }, JsonSerializerOptions.Web);
            var body = await posted.Content.ReadAsStringAsync();
            if (!posted.IsSuccessStatusCode)
                throw new InvalidOperationException($"POST /events answered {(int)posted.StatusCode}: {body[..Math.Min(500, body.Length)]}");
            total = total.Add(Outcomes(JsonDocument.Parse(body).RootElement));
        }
        return total;
    }

    /// <summary>Counts the per-event outcomes: in the answer's array, each entry's value <c>stored</c>, <c>duplicate</c> or <c>rejected</c>.</summary>
    public static EventOutcomes Outcomes(JsonElement answer)
    {
        var entries = answer.ValueKind == JsonValueKind.Array ? answer
            : answer.EnumerateObject().Select(p => p.Value).FirstOrDefault(v => v.ValueKind == JsonValueKind.Array);
        var (stored, duplicate, rejected, first) = (0, 0, 0, (string?)null);
        if (entries.ValueKind != JsonValueKind.Array)
            return new EventOutcomes(0, 0, 0, $"no outcomes in the answer: {answer}");
        foreach (var entry in entries.EnumerateArray())
        {
            var outcome = entry.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).Select(p => p.Value.GetString())
                .FirstOrDefault(v => v is "stored" or "duplicate" or "rejected");
            switch (outcome)
            {
                case "stored": stored++; break;
                case "duplicate": duplicate++; break;
                default: rejected++; first ??= entry.ToString(); break;
            }
        }
        return new EventOutcomes(stored, duplicate, rejected, first);
    }

    /// <summary>POST /feedback/rebuild: answers once co-engagement and propensities are rebuilt.</summary>
    public async Task RebuildAsync()
    {
        using var posted = await _http.PostAsync(new Uri("/feedback/rebuild", UriKind.Relative), null);
        if (!posted.IsSuccessStatusCode)
            throw new InvalidOperationException($"POST /feedback/rebuild answered {(int)posted.StatusCode}: {await posted.Content.ReadAsStringAsync()}");
    }

    /// <summary>GET /feedback/propensities: position → (propensity relative to position 1, swapped clicks it rests on).</summary>
    public async Task<Dictionary<int, (double Propensity, int Clicks)>> PropensitiesAsync()
    {
        var answer = await GetJsonAsync("/feedback/propensities");
        return answer.GetProperty("positions").EnumerateArray().ToDictionary(p => p.GetProperty("position").GetInt32(),
            p => (p.GetProperty("propensity").GetDouble(), p.TryGetProperty("clicks", out var c) ? c.GetInt32() : 0));
    }

    /// <summary>PUT /experiments/{name} with two sides' ranking parameters on <paramref name="share"/> of the traffic.</summary>
    public async Task StartExperimentAsync(string name, object control, object treatment, double share)
    {
        using var put = await _http.PutAsJsonAsync(new Uri($"/experiments/{name}", UriKind.Relative), new { control, treatment, share });
        if (!put.IsSuccessStatusCode)
            throw new InvalidOperationException($"PUT /experiments/{name} answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
    }

    public async Task<JsonElement> ExperimentAsync(string name) =>
        await GetJsonAsync($"/experiments/{name}");

    public async Task StopExperimentAsync(string name)
    {
        using var deleted = await _http.DeleteAsync(new Uri($"/experiments/{name}", UriKind.Relative));
        await ThrowUnlessOkAsync(deleted, $"DELETE /experiments/{name}");
    }

    /// <summary>GET /co-engaged/{sku}: the SKUs the loop learned go with it.</summary>
    public async Task<string[]> CoEngagedAsync(string sku)
    {
        var answer = await GetJsonAsync($"/co-engaged/{Uri.EscapeDataString(sku)}?k=100");
        return [.. answer.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("sku").GetString()!)];
    }

    /// <summary>The name of the live model set (GET /models).</summary>
    public async Task<string> LiveModelSetAsync()
    {
        var answer = await GetJsonAsync("/models");
        return answer.GetProperty("models").EnumerateArray().First(m => m.GetProperty("status").GetString() == "live").GetProperty("name").GetString()!;
    }

    /// <summary>GET of a JSON answer; any other status than 200 is an <see cref="InvalidOperationException"/> naming the route.</summary>
    async Task<JsonElement> GetJsonAsync(string pathAndQuery)
    {
        using var answer = await _http.GetAsync(new Uri(pathAndQuery, UriKind.Relative));
        await ThrowUnlessOkAsync(answer, $"GET {pathAndQuery}");
        return await answer.Content.ReadFromJsonAsync<JsonElement>();
    }

    static async Task ThrowUnlessOkAsync(HttpResponseMessage answer, string call)
    {
        if (answer.IsSuccessStatusCode)
            return;
        var body = await answer.Content.ReadAsStringAsync();
        throw new InvalidOperationException($"{call} answered {(int)answer.StatusCode}: {body[..Math.Min(500, body.Length)]}");
    }

    public void Dispose() => _http.Dispose();
}
