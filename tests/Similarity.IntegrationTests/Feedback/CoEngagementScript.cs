using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>One event as the ingest stores it: who, which item, what kind, how long ago, and where it was shown when it came from a served list.</summary>
public sealed record ScriptEvent(string Visitor, string Sku, string Type = "view", double MinutesAgo = 0, int? Position = null, Guid? RequestId = null);

/// <summary>
/// Writes the closed loop's raw rows straight into the tables the ingest owns (events, served lists, bot visitors), so
/// the learning is tested on a fixed script of what shoppers did; and asks the service to rebuild from them.
/// </summary>
public static class CoEngagementScript
{
    public static async Task InsertEventsAsync(TestDatabase database, params ScriptEvent[] events)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO events (event_id, type, visitor_id, sku, occurred_at, position, request_id)
            SELECT gen_random_uuid()::text, u.type, u.visitor, u.sku, now() - make_interval(secs => u.minutes * 60), u.position, u.request_id
            FROM unnest(@types, @visitors, @skus, @minutes, @positions::smallint[], @request_ids::uuid[]) u(type, visitor, sku, minutes, position, request_id)
            """, connection);
        command.Parameters.AddWithValue("types", events.Select(e => e.Type).ToArray());
        command.Parameters.AddWithValue("visitors", events.Select(e => e.Visitor).ToArray());
        command.Parameters.AddWithValue("skus", events.Select(e => e.Sku).ToArray());
        command.Parameters.AddWithValue("minutes", events.Select(e => e.MinutesAgo).ToArray());
        command.Parameters.AddWithValue("positions", events.Select(e => e.Position).ToArray());
        command.Parameters.AddWithValue("request_ids", events.Select(e => e.RequestId).ToArray());
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A served /similar list of <paramref name="skus"/>, explored at <paramref name="exploredAt"/> or not; returns its request id.</summary>
    public static async Task<Guid> InsertServedAsync(TestDatabase database, string querySku, string[] skus, short? exploredAt)
    {
        var requestId = Guid.CreateVersion7();
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO served_lists (request_id, served_at, endpoint, query_sku, fingerprint, explored_at, skus, scores)
            VALUES (@request_id, now(), 'similar', @query_sku, 'test', @explored_at, @skus, @scores)
            """, connection);
        command.Parameters.AddWithValue("request_id", requestId);
        command.Parameters.AddWithValue("query_sku", querySku);
        command.Parameters.Add(new NpgsqlParameter<short?>("explored_at", exploredAt));
        command.Parameters.AddWithValue("skus", skus);
        command.Parameters.AddWithValue("scores", skus.Select(_ => 0.5f).ToArray());
        await command.ExecuteNonQueryAsync();
        return requestId;
    }

    public static async Task FlagBotAsync(TestDatabase database, string visitor) =>
        await database.ExecuteAsync("INSERT INTO bot_visitors (visitor_id, reason) VALUES ($1, 'test')", visitor);

    /// <summary><c>POST /feedback/rebuild</c>, which answers when the rebuild is committed.</summary>
    public static async Task<JsonElement> RebuildAsync(SimilarityApp app)
    {
        var response = await app.CreateAdminClient().PostAsync("/feedback/rebuild", null);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The stored pair (weight, visitors, score), or null when the pair is not kept.</summary>
    public static async Task<(double Weight, int Visitors, double Score)?> PairAsync(TestDatabase database, string sku, string otherSku)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT weight, visitors, score FROM co_engagement WHERE sku = @sku AND other_sku = @other", connection);
        command.Parameters.AddWithValue("sku", sku);
        command.Parameters.AddWithValue("other", otherSku);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetFloat(0), reader.GetInt32(1), reader.GetFloat(2)) : null;
    }

    /// <summary>Three visitors who each engaged with both items in one session (a view of each, a minute apart, <paramref name="minutesAgo"/>).</summary>
    public static ScriptEvent[] EngagedTogether(string prefix, string sku, string otherSku, int visitors = 3, double minutesAgo = 10) =>
        [.. Enumerable.Range(1, visitors).SelectMany(v => new[]
        {
            new ScriptEvent($"{prefix}-{v}", sku, MinutesAgo: minutesAgo + 1),
            new ScriptEvent($"{prefix}-{v}", otherSku, MinutesAgo: minutesAgo),
        })];
}
