using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Npgsql;
using Pgvector;
using Similarity.Database;
using Similarity.Encoders;

namespace Similarity.Models;

/// <summary>
/// The standby embedder, a duty (<c>POST /models/{name}/embed</c> starts it for a candidate): embeds every item with the
/// standby set into the standby columns, a batch at a time at <c>Similarity:Models:EmbedItemsPerSecond</c>. What is
/// left to do is read from the items themselves, so it resumes where it was after a restart and catches up with items
/// written meanwhile; with none left it builds the set's index and marks it ready.
/// </summary>
internal sealed partial class StandbyEmbedder(NpgsqlDataSource dataSource, ModelSets models, ModelDeployment deployment, CatalogIndex index, Leadership leadership,
    EmbeddingRate rate, IOptions<ModelOptions> options, ILogger<StandbyEmbedder> logger) : BackgroundService
{
    /// <summary>The duty's name for its lease.</summary>
    public const string Duty = "standbyEmbedder";

    const int ItemsPerBatch = 8;
    static readonly TimeSpan IdlePause = TimeSpan.FromMilliseconds(500), RetryPause = TimeSpan.FromSeconds(2);

    /// <summary>Items that could not be embedded, by SKU, with the reason; skipped until the set changes or the service restarts.</summary>
    readonly ConcurrentDictionary<string, string> _failed = new(StringComparer.Ordinal);
    string? _failedFor;
    string _cursor = "";
    volatile string? _fault;

    /// <summary>Why the job is not making progress (a failing batch, or items it cannot embed); null while it is.</summary>
    public string? Fault => _fault ?? (_failed.IsEmpty ? null
        : $"{_failed.Count} item(s) could not be embedded with the standby set, e.g. {_failed.First().Key}: {_failed.First().Value}");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var worked = 0;
            try
            {
                // One instance of several embeds: the others wait for its lease to come free.
                if (models.Standby is { Status: ModelStatus.Embedding or ModelStatus.Ready } standby && await leadership.For(Duty).HoldAsync(stoppingToken))
                    worked = await BatchAsync(standby.Set, standby.Status, stoppingToken);
                _fault = null;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _fault = "The embedding job's last batch failed (logged); it is tried again.";
                LogBatchFailed(ex);
                worked = -1;
            }
            try
            {
                if (worked <= 0)
                    await Task.Delay(worked < 0 ? RetryPause : IdlePause, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    sealed record Pending(string Sku, string Text, byte[] TextHash, byte[]? ImageHash, byte[]? Picture);

    /// <summary>One batch: up to <see cref="ItemsPerBatch"/> items embedded and written; or, with none left, the set made ready.</summary>
    async Task<int> BatchAsync(ModelSet set, string status, CancellationToken ct)
    {
        if (_failedFor != set.Fingerprint)
        {
            (_failedFor, _cursor) = (set.Fingerprint, "");
            _failed.Clear();
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var pending = await PendingAsync(set, ct);
        if (pending.Count == 0 && _cursor != "")
        {
            _cursor = ""; // the end of the catalog: from the start again, for items written behind the cursor
            pending = await PendingAsync(set, ct);
        }
        if (pending.Count == 0)
        {
            if (status == ModelStatus.Embedding && _failed.IsEmpty)
            {
                await index.EnsureStandbyAsync(set, ct);
                await deployment.MarkReadyAsync(set, ct);
            }
            return 0;
        }
        _cursor = pending[^1].Sku;

        // The batch door of the pipeline, as imports use it: one model run per encoder for the whole batch, off the
        // requests' micro-batchers; a picture that cannot be decoded fails its item alone.
        var outcomes = await Task.Run(() => set.Pipeline.EmbedBatch([.. pending.Select(item => new EmbeddingInput(item.Picture, item.Text))]), ct);
        var embedded = pending.Zip(outcomes, (item, outcome) =>
        {
            if (outcome.Error is { } error)
                _failed[item.Sku] = error.Message;
            return (item, Fusion: outcome.Error is null ? outcome.Value : null);
        }).ToList();

        var written = 0;
        // Under the read side: an activation or a retirement never sees half a batch.
        using (await models.ReadLockAsync(ct))
        {
            if (models.Standby?.Set != set)
                return 0;
            await using var batch = dataSource.CreateBatch();
            foreach (var (item, fusion) in embedded)
            {
                if (fusion is null)
                    continue;
                // Only if the item still has the content embedded: else a later batch embeds what it has now.
                var command = new NpgsqlBatchCommand("""
                    UPDATE items SET standby_fingerprint = @fingerprint, standby_embedding = @embedding, standby_image_embedding = @image_embedding,
                        standby_text_embedding = @text_embedding, standby_image_weight = @image_weight, standby_text_weight = @text_weight,
                        standby_text_sha256 = text_sha256, standby_image_sha256 = image_sha256
                    WHERE sku = @sku AND text_sha256 = @text_sha256 AND image_sha256 IS NOT DISTINCT FROM @image_sha256
                    """);
                command.Parameters.AddWithValue("sku", item.Sku);
                command.Parameters.AddWithValue("fingerprint", set.Fingerprint);
                command.Parameters.AddWithValue("embedding", new Vector(fusion.Fused));
                command.Parameters.Add(VectorParameters.VectorParameter(fusion.Image, "image_embedding"));
                command.Parameters.Add(VectorParameters.VectorParameter(fusion.Text, "text_embedding"));
                command.Parameters.AddWithValue("image_weight", fusion.ImageWeight);
                command.Parameters.AddWithValue("text_weight", fusion.TextWeight);
                command.Parameters.AddWithValue("text_sha256", item.TextHash);
                command.Parameters.Add(new() { ParameterName = "image_sha256", Value = (object?)item.ImageHash ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
                batch.BatchCommands.Add(command);
                written++;
            }
            if (written > 0)
                await batch.ExecuteNonQueryAsync(ct);
        }
        rate.Record(set.Name, written);

        // The pace: this batch's items at EmbedItemsPerSecond, whatever the batch itself took.
        var due = TimeSpan.FromSeconds(pending.Count / options.Value.EmbedItemsPerSecond) - System.Diagnostics.Stopwatch.GetElapsedTime(started);
        if (due > TimeSpan.Zero)
            await Task.Delay(due, ct);
        return pending.Count;
    }

    /// <summary>The next items after the cursor whose standby vectors are missing or out of date, with what embedding them needs.</summary>
    async Task<List<Pending>> PendingAsync(ModelSet set, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT i.sku, i.title, i.category, i.description, i.text_sha256, i.image_sha256, p.full_jpeg
            FROM (SELECT sku, title, category, description, text_sha256, image_sha256 FROM items
                  WHERE sku > @cursor AND {StandbyColumns.Stale} AND sku <> ALL(@failed) ORDER BY sku LIMIT @limit) i
            LEFT JOIN item_pictures p ON p.sku = i.sku AND p.image_sha256 = i.image_sha256
            ORDER BY i.sku
            """);
        command.Parameters.AddWithValue("standby", set.Fingerprint);
        command.Parameters.AddWithValue("cursor", _cursor);
        command.Parameters.AddWithValue("failed", _failed.Keys.ToArray());
        command.Parameters.AddWithValue("limit", ItemsPerBatch);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var pending = new List<Pending>();
        while (await reader.ReadAsync(ct))
        {
            var sku = reader.GetString(0);
            var imageHash = reader.IsDBNull(5) ? null : reader.GetFieldValue<byte[]>(5);
            var picture = reader.IsDBNull(6) ? null : reader.GetFieldValue<byte[]>(6);
            if (imageHash is not null && picture is null)
                LogNoPicture(sku);
            pending.Add(new Pending(sku, CatalogText.Compose(reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)),
                reader.GetFieldValue<byte[]>(4), imageHash, picture));
        }
        return pending;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "An embedding batch for the standby model set failed; it is tried again")]
    partial void LogBatchFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Item {Sku} has an image but no stored picture: the standby set embeds its text only")]
    partial void LogNoPicture(string sku);
}
