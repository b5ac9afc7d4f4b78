using Npgsql;
using Similarity.Encoders;

namespace Similarity.Models;

/// <summary>A row of <c>model_sets</c>: a model set the database knows, whatever its status.</summary>
internal sealed record ModelSetRow(string Name, string Fingerprint, string Status, string Directory, bool Owned, int ImageDimension, int TextDimension,
    int FusedDimension, long BundleBytes, DateTimeOffset CreatedAt, DateTimeOffset? ActivatedAt);

/// <summary>
/// The SQL over <c>model_sets</c>, each statement once. The table is the truth of which set is live: its unique
/// indexes allow one live and one standby row at a time.
/// </summary>
internal sealed class ModelSetStore(NpgsqlDataSource dataSource)
{
    /// <summary>Every set recorded, by name.</summary>
    public async Task<List<ModelSetRow>> ReadAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT name, fingerprint, status, directory, owned, image_dimension, text_dimension, fused_dimension, bundle_bytes, created_at, activated_at
            FROM model_sets ORDER BY name
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<ModelSetRow>();
        while (await reader.ReadAsync(ct))
            rows.Add(Read(reader));
        return rows;
    }

    static ModelSetRow Read(NpgsqlDataReader reader) => new(
        reader.GetString(reader.GetOrdinal("name")),
        reader.GetString(reader.GetOrdinal("fingerprint")),
        reader.GetString(reader.GetOrdinal("status")),
        reader.GetString(reader.GetOrdinal("directory")),
        reader.GetBoolean(reader.GetOrdinal("owned")),
        reader.GetInt32(reader.GetOrdinal("image_dimension")),
        reader.GetInt32(reader.GetOrdinal("text_dimension")),
        reader.GetInt32(reader.GetOrdinal("fused_dimension")),
        reader.GetInt64(reader.GetOrdinal("bundle_bytes")),
        reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("created_at")),
        reader.IsDBNull(reader.GetOrdinal("activated_at")) ? null : reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("activated_at")));

    /// <summary>The configured set, live on a database with none; nothing when another instance registered one first.</summary>
    public async Task InsertLiveAsync(string name, ModelManifest manifest, CancellationToken ct)
    {
        await using var insert = Insert(name, manifest, manifest.Directory, ModelStatus.Live, owned: false, "ON CONFLICT DO NOTHING");
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        insert.Connection = connection;
        await insert.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A deployed bundle as the candidate; a unique violation when a name, fingerprint or the standby slot is taken.</summary>
    public async Task InsertCandidateAsync(string name, ModelManifest manifest, string directory, CancellationToken ct)
    {
        await using var insert = Insert(name, manifest, directory, ModelStatus.Candidate, owned: true, "");
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        insert.Connection = connection;
        await insert.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The recorded live set retired and the configured one live in its place, in one transaction.</summary>
    public async Task ReplaceLiveAsync(string lost, string name, ModelManifest manifest, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await RetireAsync(connection, transaction, lost, ct);
        await using (var insert = Insert(name, manifest, manifest.Directory, ModelStatus.Live, owned: false,
            "ON CONFLICT (fingerprint) DO UPDATE SET status = EXCLUDED.status, directory = EXCLUDED.directory, activated_at = now(), retired_at = NULL"))
        {
            (insert.Connection, insert.Transaction) = (connection, transaction);
            await insert.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
    }

    /// <summary>The one INSERT of a set, its parameters named and built here; <paramref name="onConflict"/> says what a clash does.</summary>
    static NpgsqlCommand Insert(string name, ModelManifest manifest, string directory, string status, bool owned, string onConflict)
    {
        var command = new NpgsqlCommand($"""
            INSERT INTO model_sets (name, fingerprint, status, directory, owned, image_dimension, text_dimension, fused_dimension, bundle_bytes, activated_at)
            VALUES (@name, @fingerprint, @status, @directory, @owned, @image_dimension, @text_dimension, @fused_dimension, @bundle_bytes,
                CASE WHEN @status = @live THEN now() END)
            {onConflict}
            """);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("fingerprint", manifest.Fingerprint);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("live", ModelStatus.Live);
        command.Parameters.AddWithValue("directory", directory);
        command.Parameters.AddWithValue("owned", owned);
        command.Parameters.AddWithValue("image_dimension", manifest.Image.Dimension);
        command.Parameters.AddWithValue("text_dimension", manifest.Text.Dimension);
        command.Parameters.AddWithValue("fused_dimension", manifest.Fusion.Dimension);
        command.Parameters.AddWithValue("bundle_bytes", BundleBytesOf(manifest));
        return command;
    }

    public Task SetDirectoryAsync(string name, string directory, CancellationToken ct) =>
        ExecuteAsync("UPDATE model_sets SET directory = @directory WHERE name = @name", ct, ("name", name), ("directory", directory));

    /// <summary>The standby set's next step (candidate to embedding, embedding to ready); nothing when it is not at <paramref name="from"/>.</summary>
    public Task AdvanceAsync(string name, string from, string to, CancellationToken ct) =>
        ExecuteAsync("UPDATE model_sets SET status = @to WHERE name = @name AND status = @from", ct, ("name", name), ("from", from), ("to", to));

    /// <summary>A set's status within the switch's transaction; <c>activated_at</c> is stamped when it goes live.</summary>
    public static Task SetStatusAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string name, string status, CancellationToken ct) =>
        ExecuteAsync(connection, transaction, """
            UPDATE model_sets SET status = @status, activated_at = CASE WHEN @status = @live THEN now() ELSE activated_at END WHERE name = @name
            """, ct, ("name", name), ("status", status), ("live", ModelStatus.Live));

    public static Task RetireAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string name, CancellationToken ct) =>
        ExecuteAsync(connection, transaction, "UPDATE model_sets SET status = @retired, retired_at = now() WHERE name = @name", ct,
            ("name", name), ("retired", ModelStatus.Retired));

    /// <summary>The size of a set's files as its manifest names them.</summary>
    public static long BundleBytesOf(ModelManifest manifest) =>
        new[] { "manifest.json", manifest.Image.File, manifest.Text.File, manifest.Text.Tokenizer.Vocab, manifest.Fusion.File }
            .Select(manifest.PathOf).Where(File.Exists).Sum(f => new FileInfo(f).Length);

    async Task ExecuteAsync(string sql, CancellationToken ct, params (string Name, object Value)[] values)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in values)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>One statement in the caller's transaction, its parameters named.</summary>
    public static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken ct,
        params (string Name, object Value)[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in values)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>One value in the caller's transaction, its parameters named.</summary>
    public static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken ct,
        params (string Name, object Value)[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in values)
            command.Parameters.AddWithValue(name, value);
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }
}
