using Npgsql;

namespace Similarity.Models;

/// <summary>
/// <c>DELETE /models/{name}</c>: the standby set is retired — its index dropped, its vectors cleared, its sessions freed
/// and (when it came from a bundle) its files removed. The live set cannot be retired.
/// </summary>
internal sealed partial class ModelRetirement(NpgsqlDataSource dataSource, ModelSets models, ModelSetStore store, ILogger<ModelRetirement> logger)
{
    public async Task RetireAsync(string name, CancellationToken ct)
    {
        var rows = await store.ReadAsync(ct);
        var row = rows.FirstOrDefault(r => r.Name == name && r.Status != ModelStatus.Retired)
            ?? throw new ModelSetRefusedException(ModelRefusal.NoSuchSet, $"No model set named '{name}' is deployed.");
        if (row.Status == ModelStatus.Live)
            throw new ModelSetRefusedException(ModelRefusal.IsLive, $"'{name}' is the live model set; activate another one first.");
        ModelSet? set;
        // Under the writer side: no embedding batch is writing the standby columns while they go.
        using (await models.WriteLockAsync(ct))
        {
            set = models.Standby?.Set;
            models.ReplaceStandby(null);
        }
        await using (var drop = dataSource.CreateCommand($"DROP INDEX CONCURRENTLY IF EXISTS {CatalogIndex.NameOf(row.Fingerprint)}"))
            await drop.ExecuteNonQueryAsync(ct);
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            await ModelSetStore.RetireAsync(connection, transaction, name, ct);
            await ModelSetStore.ExecuteAsync(connection, transaction,
                $"UPDATE items SET {string.Join(", ", StandbyColumns.Swapped.Select(c => $"standby_{c} = NULL"))} WHERE standby_fingerprint IS NOT NULL", ct);
            await transaction.CommitAsync(ct);
        }
        if (set is not null)
            await set.Pipeline.DisposeAsync();
        if (row.Owned && Directory.Exists(row.Directory))
            Directory.Delete(row.Directory, recursive: true);
        LogRetired(name);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model set {Name} retired: its vectors, index and files are gone")]
    partial void LogRetired(string name);
}
