using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Similarity.Feedback;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>Builds events as a shop's backend sends them and posts them; reads what the tables hold.</summary>
public static class EventsClient
{
    /// <summary>A valid click, its fields overridable (null removes one).</summary>
    public static Dictionary<string, object?> Event(string eventId, string visitorId = "v-1", string type = "click", DateTimeOffset? at = null)
    {
        return new()
        {
            ["eventId"] = eventId,
            ["type"] = type,
            ["visitorId"] = visitorId,
            ["sku"] = "sku-0001",
            ["timestamp"] = (at ?? DateTimeOffset.UtcNow.AddMinutes(-1)).ToString("O"),
        };
    }

    public static Dictionary<string, object?> With(this Dictionary<string, object?> e, string field, object? value)
    {
        var copy = new Dictionary<string, object?>(e) { [field] = value };
        if (value is null)
            copy.Remove(field);
        return copy;
    }

    public static async Task<EventsAnswer> PostEventsAsync(this HttpClient client, params IEnumerable<object> events)
    {
        var response = await client.PostAsJsonAsync("/events", new { events });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<EventsAnswer>())!;
    }

    public static async Task<long> CountAsync(this TestDatabase database, string sql, params object[] parameters) =>
        Convert.ToInt64(await database.ExecuteAsync(sql, parameters), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Polls until <paramref name="condition"/> holds; the writer and the duties work off the request path.</summary>
    public static async Task WaitForAsync(Func<Task<bool>> condition, string what, int timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{what} did not happen within {timeoutSeconds} s");
            await Task.Delay(20);
        }
    }

    public static JsonElement Json(string body) => JsonElement.Parse(body);
}
