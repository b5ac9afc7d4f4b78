using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Similarity.Database;

namespace Similarity.Feedback;

/// <summary>
/// The experiments in table <c>experiments</c> and what their interleaved answers earned, counted in SQL over
/// <c>served_lists</c> ⋈ <c>events</c>. A stopped experiment keeps its row (its results stay readable); a PUT of a
/// name starts it afresh, and only answers served since then count.
/// </summary>
public sealed class ExperimentStore(NpgsqlDataSource dataSource)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    const string Columns = "name, control::text AS control, treatment::text AS treatment, share, status, created_at, stopped_at";

    /// <summary>Creates or replaces the experiment, running from now; true when it is new.</summary>
    public async Task<(ExperimentDefinition Experiment, bool Created)> PutAsync(string name, ExperimentSide control, ExperimentSide treatment,
        double share, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO experiments (name, control, treatment, share)
            VALUES (@name, @control, @treatment, @share)
            ON CONFLICT (name) DO UPDATE SET control = excluded.control, treatment = excluded.treatment, share = excluded.share,
                status = 'running', created_at = now(), stopped_at = NULL
            RETURNING {Columns}, xmax = 0 AS created
            """);
        command.Parameters.Add(new NpgsqlParameter("name", name));
        command.Parameters.Add(new NpgsqlParameter("control", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(control, Json) });
        command.Parameters.Add(new NpgsqlParameter("treatment", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(treatment, Json) });
        command.Parameters.Add(new NpgsqlParameter("share", NpgsqlDbType.Real) { Value = (float)share });
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (Read(reader), reader.GetBoolean(reader.GetOrdinal("created")));
    }

    public Task<ExperimentDefinition?> GetAsync(string name, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM experiments WHERE name = $1");
        command.Parameters.Add(new() { Value = name });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }, ct);

    /// <summary>Every experiment, running ones first, newest first within each.</summary>
    public Task<List<ExperimentDefinition>> ListAsync(bool runningOnly, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {Columns} FROM experiments WHERE status = 'running' OR NOT $1
            ORDER BY status = 'running' DESC, created_at DESC, name
            """);
        command.Parameters.Add(new() { Value = runningOnly });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var experiments = new List<ExperimentDefinition>();
        while (await reader.ReadAsync(ct))
            experiments.Add(Read(reader));
        return experiments;
    }, ct);

    /// <summary>Stops a running experiment (a stopped one stays as it was); false when there is none of that name.</summary>
    public async Task<bool> StopAsync(string name, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE experiments SET status = 'stopped', stopped_at = coalesce(stopped_at, now()) WHERE name = $1
            """);
        command.Parameters.Add(new() { Value = name });
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>
    /// What the experiment's interleaved answers earned since it started. A click credits the team that picked its
    /// position (<c>teams</c>, one letter per position); a position clicked twice in one answer counts once; clicks of
    /// visitors flagged as bots do not count. An answer is won by the side credited with more clicks.
    /// </summary>
    public Task<ExperimentTally> TallyAsync(ExperimentDefinition experiment, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand("""
            WITH served AS (
                SELECT request_id, teams FROM served_lists
                WHERE experiment = @name AND arm = 'interleaved' AND teams IS NOT NULL
                  AND served_at >= @since AND (@until::timestamptz IS NULL OR served_at <= @until)
            ), credited AS (
                SELECT s.request_id,
                       count(DISTINCT e.position) FILTER (WHERE substr(s.teams, e.position, 1) = 'A') AS control,
                       count(DISTINCT e.position) FILTER (WHERE substr(s.teams, e.position, 1) = 'B') AS treatment
                FROM served s
                JOIN events e ON e.request_id = s.request_id AND e.type = 'click' AND e.position BETWEEN 1 AND length(s.teams)
                WHERE e.occurred_at >= @since - interval '1 day' AND -- the client's clock may run behind ours
                   NOT EXISTS (SELECT 1 FROM bot_visitors b WHERE b.visitor_id = e.visitor_id)
                GROUP BY s.request_id
            )
            SELECT (SELECT count(*) FROM served) AS impressions,
                   coalesce(sum(control), 0)::bigint AS clicks_control, coalesce(sum(treatment), 0)::bigint AS clicks_treatment,
                   count(*) FILTER (WHERE control > treatment) AS wins_control,
                   count(*) FILTER (WHERE treatment > control) AS wins_treatment,
                   count(*) FILTER (WHERE treatment = control) AS ties
            FROM credited
            """);
        command.Parameters.Add(new NpgsqlParameter("name", experiment.Name));
        command.Parameters.Add(new NpgsqlParameter("since", experiment.CreatedAt));
        command.Parameters.Add(new NpgsqlParameter("until", NpgsqlDbType.TimestampTz) { Value = (object?)experiment.StoppedAt ?? DBNull.Value });
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        long Count(string column) => reader.GetInt64(reader.GetOrdinal(column));
        return new ExperimentTally(Count("impressions"), Count("clicks_control"), Count("clicks_treatment"),
            Count("wins_control"), Count("wins_treatment"), Count("ties"));
    }, ct);

    static ExperimentDefinition Read(NpgsqlDataReader reader)
    {
        ExperimentSide Side(string column) => JsonSerializer.Deserialize<ExperimentSide>(reader.GetString(reader.GetOrdinal(column)), Json)!;
        var stopped = reader.GetOrdinal("stopped_at");
        return new ExperimentDefinition(reader.GetString(reader.GetOrdinal("name")), Side("control"), Side("treatment"),
            Math.Round(reader.GetFloat(reader.GetOrdinal("share")), 6), reader.GetString(reader.GetOrdinal("status")),
            reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("created_at")),
            reader.IsDBNull(stopped) ? null : reader.GetFieldValue<DateTimeOffset>(stopped));
    }
}
