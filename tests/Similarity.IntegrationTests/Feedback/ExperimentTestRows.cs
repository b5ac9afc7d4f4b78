using Npgsql;
using NpgsqlTypes;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>
/// Served lists and shoppers' events written straight into the tables (columns as migration 0012 fixes them), so the
/// experiments' and the stats' SQL can be held to a script of clicks worked by hand.
/// </summary>
static class ExperimentTestRows
{
    /// <summary>One served list; returns its request id.</summary>
    public static async Task<Guid> ServeAsync(this NpgsqlDataSource db, int length, string? experiment = null, string? teams = null,
        DateTimeOffset? at = null, string querySku = "query-item", string arm = "interleaved")
    {
        var requestId = Guid.CreateVersion7();
        await using var command = db.CreateCommand("""
            INSERT INTO served_lists (request_id, served_at, endpoint, query_sku, fingerprint, experiment, arm, teams, skus, scores)
            VALUES (@request, coalesce(@at, now()), 'similar', @query, 'test-fingerprint', @experiment, @arm, @teams, @skus, @scores)
            """);
        command.Parameters.Add(new NpgsqlParameter("request", requestId));
        command.Parameters.Add(new NpgsqlParameter("at", NpgsqlDbType.TimestampTz) { Value = (object?)at ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("query", querySku));
        command.Parameters.Add(new NpgsqlParameter("experiment", NpgsqlDbType.Text) { Value = (object?)experiment ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("arm", NpgsqlDbType.Text) { Value = experiment is null ? DBNull.Value : arm });
        command.Parameters.Add(new NpgsqlParameter("teams", NpgsqlDbType.Text) { Value = (object?)teams ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("skus", Enumerable.Range(1, length).Select(i => $"shown-{i}").ToArray()));
        command.Parameters.Add(new NpgsqlParameter("scores", Enumerable.Range(1, length).Select(i => 1f - i / 100f).ToArray()));
        await command.ExecuteNonQueryAsync();
        return requestId;
    }

    /// <summary>One event on a served list's position (a click unless told).</summary>
    public static async Task EngageAsync(this NpgsqlDataSource db, Guid requestId, int position, string type = "click", string visitor = "shopper-1",
        DateTimeOffset? at = null, string sourceSku = "query-item")
    {
        await using var command = db.CreateCommand("""
            INSERT INTO events (event_id, type, visitor_id, sku, source_sku, request_id, position, occurred_at)
            VALUES (@id, @type, @visitor, @sku, @source, @request, @position, coalesce(@at, now()))
            """);
        command.Parameters.Add(new NpgsqlParameter("id", Guid.NewGuid().ToString()));
        command.Parameters.Add(new NpgsqlParameter("type", type));
        command.Parameters.Add(new NpgsqlParameter("visitor", visitor));
        command.Parameters.Add(new NpgsqlParameter("sku", $"shown-{position}"));
        command.Parameters.Add(new NpgsqlParameter("source", sourceSku));
        command.Parameters.Add(new NpgsqlParameter("request", requestId));
        command.Parameters.Add(new NpgsqlParameter("position", NpgsqlDbType.Smallint) { Value = (short)position });
        command.Parameters.Add(new NpgsqlParameter("at", NpgsqlDbType.TimestampTz) { Value = (object?)at ?? DBNull.Value });
        await command.ExecuteNonQueryAsync();
    }

    public static async Task FlagBotAsync(this NpgsqlDataSource db, string visitor)
    {
        await using var command = db.CreateCommand("INSERT INTO bot_visitors (visitor_id, reason) VALUES ($1, 'test')");
        command.Parameters.Add(new() { Value = visitor });
        await command.ExecuteNonQueryAsync();
    }
}
