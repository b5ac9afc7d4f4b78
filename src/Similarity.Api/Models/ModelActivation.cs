using Npgsql;
using Similarity.Database;

namespace Similarity.Models;

/// <summary>
/// <c>POST /models/{name}/activate</c>: the standby set becomes live and the live one its standby (ready: activating it
/// again is the rollback). One transaction swaps the column groups' names and the statuses, moves the catalog
/// revision (ETags change) and lets every <see cref="IModelActivationParticipant"/> redo its state; the in-memory
/// switch follows only once that transaction has committed.
/// </summary>
internal sealed partial class ModelActivation(NpgsqlDataSource dataSource, ModelSets models, ModelSetStore store, StandbyWatch watch,
    IEnumerable<IModelActivationParticipant> participants, ILogger<ModelActivation> logger)
{
    /// <summary>How long the switch waits for a table lock before it gives up, rather than hold the storefront's reads queued behind it.</summary>
    const string LockTimeout = "5s";

    /// <summary>
    /// Refused unless the set is ready with every item embedded from the content it has now, and while an import is
    /// queued or running (its batches embed with the set live when it started).
    /// </summary>
    public async Task ActivateAsync(string name, CancellationToken ct)
    {
        if (models.IsLive(name))
            return;
        var standby = models.RequireStandby(name, await store.ReadAsync(ct));
        if (models.Standby?.Status is not ModelStatus.Ready and var status)
            throw new ModelSetRefusedException(ModelRefusal.NotReady,
                $"Model set '{name}' is {status}: it can be activated once it is ready (POST /models/{name}/embed, then GET /models).");

        // Held from before the first statement until the in-memory switch follows the commit: no request sees a set
        // the database has not committed, nor the old set once it has.
        using (await models.WriteLockAsync(ct))
        {
            var live = models.Live;
            // The imports' gate, on a connection of its own: it holds import_jobs until the in-memory switch is done, so a
            // job queued or claimed after the commit finds the new set live (the import worker reads it without the lock).
            await using var gateConnection = await dataSource.OpenConnectionAsync(ct);
            await using var gate = await gateConnection.BeginTransactionAsync(ct);
            await LockAsync(gateConnection, gate, "import_jobs", "SHARE", ct);
            var imports = await ModelSetStore.ScalarAsync<long>(gateConnection, gate,
                "SELECT count(*) FROM import_jobs WHERE status IN ('queued', 'running')", ct);
            if (imports > 0)
                throw new ModelSetRefusedException(ModelRefusal.ImportInProgress,
                    $"{imports} import job(s) are queued or running with the live set; activate '{name}' once they end (GET /imports).");

            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await LockAsync(connection, transaction, "items", "ACCESS EXCLUSIVE", ct);
            var stale = await ModelSetStore.ScalarAsync<long>(connection, transaction, $"SELECT count(*) FROM items WHERE {StandbyColumns.Stale}", ct,
                ("standby", standby.Fingerprint));
            if (stale > 0)
                throw new ModelSetRefusedException(ModelRefusal.ItemsChanged,
                    $"{stale} item(s) changed since '{name}' embedded them; its job embeds them again (GET /models shows the count), then activate.");
            foreach (var column in StandbyColumns.Swapped)
            {
                await ModelSetStore.ExecuteAsync(connection, transaction, $"ALTER TABLE items RENAME COLUMN {column} TO swapping_{column}", ct);
                await ModelSetStore.ExecuteAsync(connection, transaction, $"ALTER TABLE items RENAME COLUMN standby_{column} TO {column}", ct);
                await ModelSetStore.ExecuteAsync(connection, transaction, $"ALTER TABLE items RENAME COLUMN swapping_{column} TO standby_{column}", ct);
            }
            // Through 'retired' for a moment: at no point two live sets or two standby ones (the unique indexes check each row).
            await ModelSetStore.SetStatusAsync(connection, transaction, live.Name, ModelStatus.Retired, ct);
            await ModelSetStore.SetStatusAsync(connection, transaction, name, ModelStatus.Live, ct);
            await ModelSetStore.SetStatusAsync(connection, transaction, live.Name, ModelStatus.Ready, ct);
            await ModelSetStore.ExecuteAsync(connection, transaction, "UPDATE catalog_state SET revision = revision + 1", ct);
            // State computed with the old set's vectors (the neighbour lists) is redone by its owner, in this transaction.
            foreach (var participant in participants)
                await participant.OnActivatingAsync(connection, transaction, ct);
            // Other instances follow at once (delivered at the commit); their periodic read covers a lost notification.
            await ModelSetStore.ExecuteAsync(connection, transaction, $"NOTIFY {ModelSetFollower.Channel}", ct);
            await transaction.CommitAsync(ct);
            // The standbys replay the renames before any statement here filters on the new set (or are left out of the reads).
            await watch.CatchUpWithPrimaryAsync(CancellationToken.None);
            models.Switch(standby, live);
            LogActivated(name, live.Name);
        }
    }

    async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, string mode, CancellationToken ct)
    {
        await ModelSetStore.ExecuteAsync(connection, transaction, $"SET LOCAL lock_timeout = '{LockTimeout}'", ct);
        try
        {
            await ModelSetStore.ExecuteAsync(connection, transaction, $"LOCK TABLE {table} IN {mode} MODE", ct);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            throw new ModelSetRefusedException(ModelRefusal.CatalogBusy,
                $"The switch could not lock {table} within 5 s (a long write holds it); nothing changed. Try again.");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model set {Name} is live; {Previous} is kept ready for a rollback")]
    partial void LogActivated(string name, string previous);
}
