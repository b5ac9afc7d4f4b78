using System.Diagnostics;
using Microsoft.Extensions.Options;
using Nito.AsyncEx;
using Npgsql;
using Similarity.Encoders;
using Similarity.Hosting;

namespace Similarity.Models;

/// <summary>Why a model-set operation was refused, in words for a ProblemDetails: 404 or 409.</summary>
public sealed class ModelSetRefusedException(int status, string title, string detail) : Exception(detail)
{
    public int Status => status;
    public string Title => title;
}

/// <summary>
/// The model sets the service holds (issue #13): the live one, whose vectors are the items' own columns, and at most
/// one standby set — a candidate being embedded into the <c>standby_</c> columns, or the previous live set kept
/// ready for a rollback. Which set is live is kept in the database (<c>model_sets</c>), so it survives restarts;
/// <c>Similarity:Models:Manifest</c> is the set a database without one starts with.
/// <para>
/// Every request that reads or writes vectors holds <see cref="ReadLockAsync"/> while it does; an activation takes
/// the writer side, so it waits for those in flight, holds new ones for the few milliseconds the switch takes (a
/// rename of columns in one transaction), and no answer mixes two sets.
/// </para>
/// </summary>
public sealed partial class ModelSets(NpgsqlDataSource dataSource, IOptions<ModelOptions> options, IOptions<InferenceOptions> inference,
    IOptions<InputLimits> limits, SimilarityMetrics metrics, ILoggerFactory loggers, ILogger<ModelSets> logger) : IAsyncDisposable
{

    /// <summary>The column groups an activation swaps: each live column and its standby twin.</summary>
    internal static readonly string[] VectorColumns =
        ["fingerprint", "embedding", "image_embedding", "text_embedding", "image_weight", "text_weight", "text_sha256", "image_sha256"];

    /// <summary>
    /// The standby group out of date for the standby set: another set's vectors, or made from content the item no longer has.
    /// <c>$1</c> is the standby set's fingerprint.
    /// </summary>
    internal const string StaleStandby =
        "(standby_fingerprint IS DISTINCT FROM $1 OR standby_text_sha256 IS DISTINCT FROM text_sha256 OR standby_image_sha256 IS DISTINCT FROM image_sha256)";

    readonly AsyncReaderWriterLock _switch = new();
    volatile ModelSet? _live;
    volatile StandbySet? _standby;
    volatile string? _standbyFault;

    public ModelSet Live => _live ?? throw new InvalidOperationException("The model sets are not loaded yet.");

    /// <summary>The set in the standby columns, with its status (candidate, embedding or ready); null when there is none.</summary>
    public StandbySet? Standby => _standby;

    /// <summary>Why the standby set recorded in the database could not be loaded at start; null when it was.</summary>
    public string? StandbyFault => _standbyFault;

    /// <summary>Held while a request reads or writes vectors: an activation waits for it, and new ones wait for the activation.</summary>
    public AwaitableDisposable<IDisposable> ReadLockAsync(CancellationToken ct) => _switch.ReaderLockAsync(ct);

    string StorePath => Path.GetFullPath(options.Value.StorePath);

    /// <summary>
    /// At start, after the migrations: the live set from the database (the configured manifest on a database with
    /// none, registered as live), then the standby set if one is recorded. A live set that cannot be loaded stops
    /// the start, naming its folder; a standby one is logged and reported by health, and the service runs without it.
    /// </summary>
    internal async Task LoadAsync(CancellationToken ct)
    {
        var configured = ModelManifest.Load(options.Value.Manifest);
        var rows = await ReadRowsAsync(ct);
        var live = rows.FirstOrDefault(r => r.Status == ModelStatus.Live);
        if (live is null)
        {
            var name = UniqueName(configured.Name, rows);
            await using var insert = dataSource.CreateCommand("""
                INSERT INTO model_sets (name, fingerprint, status, directory, owned, image_dimension, text_dimension, fused_dimension, bundle_bytes, activated_at)
                VALUES ($1, $2, 'live', $3, false, $4, $5, $6, $7, now())
                ON CONFLICT DO NOTHING
                """);
            AddRowParameters(insert, name, configured);
            await insert.ExecuteNonQueryAsync(ct);
            rows = await ReadRowsAsync(ct); // another instance may have registered its own first
            live = rows.First(r => r.Status == ModelStatus.Live);
        }
        ModelManifest manifest;
        if (live.Fingerprint == configured.Fingerprint)
        {
            manifest = configured;
            if (live.Directory != configured.Directory)
                await ExecuteAsync("UPDATE model_sets SET directory = $2 WHERE name = $1", ct, live.Name, configured.Directory);
        }
        else if (TryLoadManifest(live.Directory, live.Fingerprint, out var recorded, out var why))
        {
            manifest = recorded;
            LogConfiguredNotLive(configured.Name, configured.Fingerprint, live.Name);
        }
        else
        {
            // The recorded live set is gone (a new image, a lost volume): the configured one takes its place, as before
            // sets were kept in the database — items it did not embed answer 409 until they are sent again.
            LogLiveSetLost(live.Name, live.Fingerprint, why, configured.Name);
            var name = UniqueName(configured.Name, rows);
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await ExecuteAsync(connection, transaction, "UPDATE model_sets SET status = 'retired', retired_at = now() WHERE name = $1", ct, live.Name);
            await using (var insert = new NpgsqlCommand("""
                INSERT INTO model_sets (name, fingerprint, status, directory, owned, image_dimension, text_dimension, fused_dimension, bundle_bytes, activated_at)
                VALUES ($1, $2, 'live', $3, false, $4, $5, $6, $7, now())
                ON CONFLICT (fingerprint) DO UPDATE SET status = 'live', directory = EXCLUDED.directory, activated_at = now(), retired_at = NULL
                """, connection, transaction))
            {
                AddRowParameters(insert, name, configured);
                await insert.ExecuteNonQueryAsync(ct);
            }
            await transaction.CommitAsync(ct);
            rows = await ReadRowsAsync(ct);
            live = rows.First(r => r.Status == ModelStatus.Live);
            manifest = configured;
        }
        var liveSet = await LoadAsync(live.Name, manifest, live.Directory, live.Owned);
        metrics.Observe(liveSet.Pipeline);
        _live = liveSet;

        if (rows.FirstOrDefault(r => r.Status is ModelStatus.Candidate or ModelStatus.Embedding or ModelStatus.Ready) is { } standby)
        {
            try
            {
                if (!TryLoadManifest(standby.Directory, standby.Fingerprint, out var standbyManifest, out var why))
                    throw new InvalidOperationException(why);
                _standby = new StandbySet(await LoadAsync(standby.Name, standbyManifest, standby.Directory, standby.Owned), standby.Status);
            }
            catch (Exception ex) when (ex is InvalidOperationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                _standbyFault = $"The standby model set '{standby.Name}' cannot be loaded from {standby.Directory}; delete it (DELETE /models/{standby.Name}) or restore its files.";
                LogStandbyNotLoaded(standby.Name, standby.Directory, ex);
            }
        }
    }

    /// <summary>A recorded set's manifest, if its folder still holds exactly the files it was recorded with.</summary>
    static bool TryLoadManifest(string directory, string fingerprint, out ModelManifest manifest, out string why)
    {
        try
        {
            manifest = ModelManifest.Load(Path.Combine(directory, "manifest.json"));
            why = manifest.Fingerprint == fingerprint ? "" : $"its folder {directory} now holds another set ({manifest.Fingerprint})";
            return why == "";
        }
        catch (InvalidOperationException ex)
        {
            (manifest, why) = (null!, ex.Message);
            return false;
        }
    }

    /// <summary>Creates the sessions and runs them once; records how much the process grew by while it did.</summary>
    async Task<ModelSet> LoadAsync(string name, ModelManifest manifest, string directory, bool owned)
    {
        var before = Process.GetCurrentProcess().WorkingSet64;
        var started = Stopwatch.GetTimestamp();
        // The encoders log under their own category, whichever set they belong to.
        var pipeline = EmbeddingPipeline.Create(manifest, inference.Value, limits.Value, loggers.CreateLogger("Similarity.Encoders"));
        try
        {
            ModelSet.TrialRun(pipeline);
        }
        catch
        {
            await pipeline.DisposeAsync();
            throw;
        }
        var grown = Math.Max(0, Process.GetCurrentProcess().WorkingSet64 - before);
        LogLoaded(name, manifest.Fingerprint, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new ModelSet(name, pipeline, directory, owned, BundleBytesOf(manifest), grown);
    }

    /// <summary>
    /// <c>PUT /models/{name}</c>: unpacks the bundle into the store, loads and checks it as the start does (SHA-256 of
    /// every file, shapes and dimensions, a trial run), and records it as the candidate in the standby columns.
    /// Bad bundles throw <see cref="ModelBundleException"/>; a name or set already known, or a standby slot already
    /// taken, throw <see cref="ModelSetRefusedException"/>.
    /// </summary>
    public async Task<ModelSetInfo> DeployAsync(string name, string bundleFile, CancellationToken ct)
    {
        Directory.CreateDirectory(StorePath);
        var unpacked = Path.Combine(StorePath, $".incoming-{Guid.NewGuid():N}");
        try
        {
            var manifestPath = ModelBundle.Extract(bundleFile, unpacked, options.Value.MaxBundleBytes);
            ModelManifest manifest;
            try
            {
                manifest = ModelManifest.Load(manifestPath);
            }
            catch (InvalidOperationException ex)
            {
                throw new ModelBundleException(ex.Message.Replace(unpacked + Path.DirectorySeparatorChar, "").Replace(unpacked, "the bundle"));
            }
            await RefuseIfTakenAsync(name, manifest.Fingerprint, ct);
            var final = Path.Combine(StorePath, $"{name}-{manifest.Fingerprint}");
            if (Directory.Exists(final))
                Directory.Delete(final, recursive: true); // left by a deploy that failed after moving it
            Directory.Move(Path.GetDirectoryName(manifestPath)!, final);
            ModelSet set;
            try
            {
                set = await LoadAsync(name, ModelManifest.Load(Path.Combine(final, "manifest.json")), final, owned: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                Directory.Delete(final, recursive: true);
                throw new ModelBundleException(ex.Message.Replace(final + Path.DirectorySeparatorChar, "").Replace(final, "the bundle"));
            }
            try
            {
                await using var insert = dataSource.CreateCommand("""
                    INSERT INTO model_sets (name, fingerprint, status, directory, owned, image_dimension, text_dimension, fused_dimension, bundle_bytes)
                    VALUES ($1, $2, 'candidate', $3, true, $4, $5, $6, $7)
                    """);
                AddRowParameters(insert, name, set.Pipeline.Manifest, final);
                await insert.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                await set.Pipeline.DisposeAsync();
                Directory.Delete(final, recursive: true);
                await RefuseIfTakenAsync(name, set.Fingerprint, ct);
                throw;
            }
            _standbyFault = null;
            _standby = new StandbySet(set, ModelStatus.Candidate);
            LogDeployed(name, set.Fingerprint);
            return (await ListAsync(ct)).First(s => s.Name == name);
        }
        finally
        {
            if (Directory.Exists(unpacked))
                Directory.Delete(unpacked, recursive: true);
        }
    }

    async Task RefuseIfTakenAsync(string name, string fingerprint, CancellationToken ct)
    {
        foreach (var row in await ReadRowsAsync(ct))
        {
            if (row.Name == name)
                throw new ModelSetRefusedException(409, "Name taken",
                    $"A model set named '{name}' exists ({row.Status}); deploy under another name" + (row.Status == ModelStatus.Retired ? "." : $", or DELETE /models/{name} first."));
            if (row.Fingerprint == fingerprint && row.Status != ModelStatus.Retired)
                throw new ModelSetRefusedException(409, "Same model set", $"These files are model set '{row.Name}' ({row.Status}, fingerprint {fingerprint}).");
            if (row.Status is ModelStatus.Candidate or ModelStatus.Embedding or ModelStatus.Ready)
                throw new ModelSetRefusedException(409, "Standby slot taken",
                    $"Model set '{row.Name}' ({row.Status}) holds the standby vectors; the service keeps one set beside the live one. DELETE /models/{row.Name} first.");
        }
    }

    /// <summary><c>POST /models/{name}/embed</c>: the candidate starts embedding (the background job picks it up); again, it is a no-op.</summary>
    public async Task StartEmbeddingAsync(string name, CancellationToken ct)
    {
        var standby = RequireStandby(name, await ReadRowsAsync(ct));
        if (_standby?.Status != ModelStatus.Candidate)
            return;
        await ExecuteAsync("UPDATE model_sets SET status = 'embedding' WHERE name = $1 AND status = 'candidate'", ct, standby.Name);
        _standby = new StandbySet(standby, ModelStatus.Embedding);
    }

    /// <summary>The embedding job: every item is embedded and the standby index built.</summary>
    internal async Task MarkReadyAsync(ModelSet set, CancellationToken ct)
    {
        await ExecuteAsync("UPDATE model_sets SET status = 'ready' WHERE name = $1 AND status = 'embedding'", ct, set.Name);
        if (_standby?.Set == set)
            _standby = new StandbySet(set, ModelStatus.Ready);
        LogReady(set.Name);
    }

    ModelSet RequireStandby(string name, List<ModelSetRow> rows)
    {
        var row = rows.FirstOrDefault(r => r.Name == name) ?? throw new ModelSetRefusedException(404, "No such model set", $"No model set is named '{name}'.");
        if (row.Status == ModelStatus.Live)
            throw new ModelSetRefusedException(409, "Live", $"Model set '{name}' is the live one.");
        if (row.Status == ModelStatus.Retired)
            throw new ModelSetRefusedException(409, "Retired", $"Model set '{name}' is retired: its vectors and files are gone. Deploy it again under another name.");
        return _standby?.Set is { } set && set.Name == name ? set
            : throw new ModelSetRefusedException(409, "Not loaded", _standbyFault ?? $"Model set '{name}' is not loaded.");
    }

    /// <summary>
    /// <c>POST /models/{name}/activate</c>: the standby set becomes live and the live one its standby (ready: activating
    /// it again is the rollback). Refused unless the set is ready with every item embedded from the content it has
    /// now, and while an import is queued or running (its batches embed with the set live when it started). One
    /// transaction: the column groups swap names, the statuses swap, the catalog revision moves (ETags change), and
    /// every item is queued for its neighbour list under the new set.
    /// </summary>
    public async Task ActivateAsync(string name, CancellationToken ct)
    {
        if (_live?.Name == name)
            return;
        var standby = RequireStandby(name, await ReadRowsAsync(ct));
        if (_standby?.Status is not ModelStatus.Ready and var status)
            throw new ModelSetRefusedException(409, "Not ready", $"Model set '{name}' is {status}: it can be activated once it is ready (POST /models/{name}/embed, then GET /models).");

        using (await _switch.WriterLockAsync(ct))
        {
            var live = Live;
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            // A switch that cannot take its locks soon gives up rather than hold the storefront's reads queued behind it.
            await ExecuteAsync(connection, transaction, "SET LOCAL lock_timeout = '5s'", ct);
            async Task LockAsync(string table, string mode)
            {
                try
                {
                    await ExecuteAsync(connection, transaction, $"LOCK TABLE {table} IN {mode} MODE", ct);
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
                {
                    throw new ModelSetRefusedException(409, "The catalog is busy",
                        $"The switch could not lock {table} within 5 s (a long write holds it); nothing changed. Try again.");
                }
            }
            await LockAsync("import_jobs", "SHARE");
            var imports = await ScalarAsync<long>(connection, transaction, "SELECT count(*) FROM import_jobs WHERE status IN ('queued', 'running')", ct);
            if (imports > 0)
                throw new ModelSetRefusedException(409, "Import in progress",
                    $"{imports} import job(s) are queued or running with the live set; activate '{name}' once they end (GET /imports).");
            await LockAsync("items", "ACCESS EXCLUSIVE");
            var stale = await ScalarAsync<long>(connection, transaction, $"SELECT count(*) FROM items WHERE {StaleStandby}", ct, standby.Fingerprint);
            if (stale > 0)
                throw new ModelSetRefusedException(409, "Items changed",
                    $"{stale} item(s) changed since '{name}' embedded them; its job embeds them again (GET /models shows the count), then activate.");
            foreach (var column in VectorColumns)
            {
                await ExecuteAsync(connection, transaction, $"ALTER TABLE items RENAME COLUMN {column} TO swapping_{column}", ct);
                await ExecuteAsync(connection, transaction, $"ALTER TABLE items RENAME COLUMN standby_{column} TO {column}", ct);
                await ExecuteAsync(connection, transaction, $"ALTER TABLE items RENAME COLUMN swapping_{column} TO standby_{column}", ct);
            }
            // Through 'retired' for a moment: at no point two live sets or two standby ones (the unique indexes check each row).
            await ExecuteAsync(connection, transaction, "UPDATE model_sets SET status = 'retired' WHERE name = $1", ct, live.Name);
            await ExecuteAsync(connection, transaction, "UPDATE model_sets SET status = 'live', activated_at = now() WHERE name = $1", ct, name);
            await ExecuteAsync(connection, transaction, "UPDATE model_sets SET status = 'ready' WHERE name = $1", ct, live.Name);
            await ExecuteAsync(connection, transaction, "UPDATE catalog_state SET revision = revision + 1", ct);
            // The lists compare vectors of one set: they are made again under the new one (the live search answers meanwhile).
            await ExecuteAsync(connection, transaction, "DELETE FROM similar_lists", ct);
            await ExecuteAsync(connection, transaction, "INSERT INTO similar_list_queue (sku, deleted) SELECT sku, false FROM items ON CONFLICT (sku) DO NOTHING", ct);
            // Swapped before the commit, back on failure: an import claimed after the commit must find the new set live.
            var before = _standby;
            (_live, _standby) = (standby, new StandbySet(live, ModelStatus.Ready));
            try
            {
                await transaction.CommitAsync(ct);
            }
            catch
            {
                (_live, _standby) = (live, before);
                throw;
            }
            LogActivated(name, live.Name);
        }
    }

    /// <summary>
    /// <c>DELETE /models/{name}</c>: the standby set is retired — its index dropped, its vectors cleared, its sessions
    /// freed and (when it came from a bundle) its files removed. The live set cannot be retired.
    /// </summary>
    public async Task RetireAsync(string name, CancellationToken ct)
    {
        var rows = await ReadRowsAsync(ct);
        var row = rows.FirstOrDefault(r => r.Name == name && r.Status != ModelStatus.Retired)
            ?? throw new ModelSetRefusedException(404, "No such model set", $"No model set named '{name}' is deployed.");
        if (row.Status == ModelStatus.Live)
            throw new ModelSetRefusedException(409, "Live", $"'{name}' is the live model set; activate another one first.");
        ModelSet? set;
        // Under the writer side: no embedding batch is writing the standby columns while they go.
        using (await _switch.WriterLockAsync(ct))
        {
            set = _standby?.Set;
            (_standby, _standbyFault) = (null, null);
        }
        await ExecuteAsync($"DROP INDEX CONCURRENTLY IF EXISTS {Catalog.CatalogIndex.NameOf(row.Fingerprint)}", ct);
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            await ExecuteAsync(connection, transaction, "UPDATE model_sets SET status = 'retired', retired_at = now() WHERE name = $1", ct, name);
            await ExecuteAsync(connection, transaction,
                $"UPDATE items SET {string.Join(", ", VectorColumns.Select(c => $"standby_{c} = NULL"))} WHERE standby_fingerprint IS NOT NULL", ct);
            await transaction.CommitAsync(ct);
        }
        if (set is not null)
            await set.Pipeline.DisposeAsync();
        if (row.Owned && Directory.Exists(row.Directory))
            Directory.Delete(row.Directory, recursive: true);
        LogRetired(name);
    }

    /// <summary>Every set recorded, live first, with its standby progress counted from the items.</summary>
    public async Task<IReadOnlyList<ModelSetInfo>> ListAsync(CancellationToken ct)
    {
        var rows = await ReadRowsAsync(ct);
        var standby = Standby;
        (long Embedded, long Total) progress = (0, 0);
        if (standby is { } s)
        {
            await using var command = dataSource.CreateCommand($"SELECT count(*) FILTER (WHERE NOT {StaleStandby}), count(*) FROM items");
            command.Parameters.Add(new() { Value = s.Set.Fingerprint });
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            progress = (reader.GetInt64(0), reader.GetInt64(1));
        }
        return [.. rows.OrderBy(r => r.Status switch { ModelStatus.Live => 0, ModelStatus.Retired => 2, _ => 1 }).ThenBy(r => r.Name, StringComparer.Ordinal).Select(r =>
        {
            var loaded = r.Status == ModelStatus.Live ? _live : standby is { } sb && sb.Set.Name == r.Name ? sb.Set : null;
            var isStandby = standby is { } st && st.Set.Name == r.Name;
            return new ModelSetInfo(r.Name, r.Fingerprint, isStandby ? standby!.Status : r.Status, r.ImageDimension, r.TextDimension, r.FusedDimension,
                r.BundleBytes, loaded?.MemoryBytes, r.CreatedAt, r.ActivatedAt,
                isStandby ? new EmbeddingProgress(progress.Embedded, progress.Total, Embedder.Rate(r.Name), Embedder.EtaSeconds(r.Name, progress.Total - progress.Embedded)) : null);
        })];
    }

    /// <summary>The embedding job's rate figures, kept by <see cref="StandbyEmbedder"/>.</summary>
    internal EmbeddingRate Embedder { get; } = new();

    public async ValueTask DisposeAsync()
    {
        if (_standby is { } standby)
            await standby.Set.Pipeline.DisposeAsync();
        if (_live is { } live)
            await live.Pipeline.DisposeAsync();
    }

    sealed record ModelSetRow(string Name, string Fingerprint, string Status, string Directory, bool Owned, int ImageDimension, int TextDimension,
        int FusedDimension, long BundleBytes, DateTimeOffset CreatedAt, DateTimeOffset? ActivatedAt);

    async Task<List<ModelSetRow>> ReadRowsAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT name, fingerprint, status, directory, owned, image_dimension, text_dimension, fused_dimension, bundle_bytes, created_at, activated_at
            FROM model_sets ORDER BY name
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<ModelSetRow>();
        while (await reader.ReadAsync(ct))
            rows.Add(new ModelSetRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetBoolean(4),
                reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7), reader.GetInt64(8), reader.GetFieldValue<DateTimeOffset>(9),
                reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10)));
        return rows;
    }

    static void AddRowParameters(NpgsqlCommand command, string name, ModelManifest manifest, string? directory = null)
    {
        command.Parameters.Add(new() { Value = name });
        command.Parameters.Add(new() { Value = manifest.Fingerprint });
        command.Parameters.Add(new() { Value = directory ?? manifest.Directory });
        command.Parameters.Add(new() { Value = manifest.Image.Dimension });
        command.Parameters.Add(new() { Value = manifest.Text.Dimension });
        command.Parameters.Add(new() { Value = manifest.Fusion.Dimension });
        command.Parameters.Add(new() { Value = BundleBytesOf(manifest) });
    }

    static long BundleBytesOf(ModelManifest manifest) =>
        new[] { "manifest.json", manifest.Image.File, manifest.Text.File, manifest.Text.Tokenizer.Vocab, manifest.Fusion.File }
            .Select(manifest.PathOf).Where(File.Exists).Sum(f => new FileInfo(f).Length);

    /// <summary>The manifest's own name where it fits the rules and is free, else one made from it.</summary>
    static string UniqueName(string wanted, List<ModelSetRow> rows)
    {
        var name = ModelBundle.IsValidName(wanted) ? wanted : "models";
        return rows.Any(r => r.Name == name) ? $"{name[..Math.Min(name.Length, 40)]}-{DateTime.UtcNow:yyyyMMddHHmmss}" : name;
    }

    async Task ExecuteAsync(string sql, CancellationToken ct, params object[] values)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var value in values)
            command.Parameters.Add(new() { Value = value });
        await command.ExecuteNonQueryAsync(ct);
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken ct, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
            command.Parameters.Add(new() { Value = value });
        await command.ExecuteNonQueryAsync(ct);
    }

    static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken ct, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
            command.Parameters.Add(new() { Value = value });
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model set {Name} loaded (fingerprint {Fingerprint}), sessions created and run once in {Milliseconds:F0} ms")]
    partial void LogLoaded(string name, string fingerprint, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Similarity:Models:Manifest names {Configured} ({Fingerprint}), but the database's live model set is {Live}: it stays live. Deploy the configured one with PUT /models/{{name}}, then activate it")]
    partial void LogConfiguredNotLive(string configured, string fingerprint, string live);

    [LoggerMessage(Level = LogLevel.Error, Message = "The live model set {Name} ({Fingerprint}) recorded in the database cannot be loaded ({Why}); the configured set {Configured} is live instead, and items it did not embed answer 409 until they are sent again")]
    partial void LogLiveSetLost(string name, string fingerprint, string why, string configured);

    [LoggerMessage(Level = LogLevel.Error, Message = "The standby model set {Name} cannot be loaded from {Directory}; the service runs without it")]
    partial void LogStandbyNotLoaded(string name, string directory, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model set {Name} deployed as the candidate (fingerprint {Fingerprint})")]
    partial void LogDeployed(string name, string fingerprint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model set {Name} is ready: every item embedded, its index built")]
    partial void LogReady(string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model set {Name} is live; {Previous} is kept ready for a rollback")]
    partial void LogActivated(string name, string previous);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model set {Name} retired: its vectors, index and files are gone")]
    partial void LogRetired(string name);
}

/// <summary>The set in the standby columns and its status (candidate, embedding or ready), read and replaced as one.</summary>
public sealed record StandbySet(ModelSet Set, string Status);

/// <summary>A model set as <c>GET /models</c> lists it. <c>memoryBytes</c>: how much the process grew by when it loaded the set (approximate; null when not loaded).</summary>
public sealed record ModelSetInfo(string Name, string Fingerprint, string Status, int ImageDimension, int TextDimension, int FusedDimension,
    long BundleBytes, long? MemoryBytes, DateTimeOffset CreatedAt, DateTimeOffset? ActivatedAt, EmbeddingProgress? Embedding);

/// <summary>The standby set's progress: items embedded from their current content, of all items; rate over the last minute, and the time left at it.</summary>
public sealed record EmbeddingProgress(long Embedded, long Total, double? ItemsPerSecond, double? EtaSeconds);
