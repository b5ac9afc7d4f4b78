using Npgsql;
using Similarity.Database;

namespace Similarity.Models;

/// <summary>
/// Keeps this instance's <see cref="ModelSets"/> on what <c>model_sets</c> records when another instance changes it: a
/// set activated there goes live here within <see cref="Period"/> (loaded first when it is not the standby set here),
/// a deployed, advanced or retired standby set follows. The database is the truth; the in-memory state changes under the
/// switch's writer side, after the standbys have replayed the change (or were left out of the reads), so a statement
/// never filters on a set the database it runs on has not switched to. Answers never mix sets either way: every
/// search statement compares only rows of the fingerprint it was planned with. An activation's NOTIFY on
/// <see cref="Channel"/> wakes the follower at once; the periodic read is the truth when a notification is lost.
/// </summary>
internal sealed partial class ModelSetFollower(NpgsqlDataSource dataSource, ModelSets models, ModelSetStore store, ModelSetLoader loader,
    StandbyWatch watch, ILogger<ModelSetFollower> logger) : BackgroundService
{
    /// <summary>How often the database's model sets are read without a notification (one small statement on the primary).</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    /// <summary>The channel an activation notifies in its transaction (delivered at its commit).</summary>
    public const string Channel = "similarity_model_sets";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        NpgsqlConnection? listener = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    listener ??= await ListenAsync(stoppingToken);
                    await listener.WaitAsync(Period, stoppingToken);
                    await FollowAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogFollowFailed(ex);
                    if (listener is not null)
                        await listener.DisposeAsync();
                    listener = null;
                    await Task.Delay(Period, stoppingToken);
                }
            }
        }
        finally
        {
            if (listener is not null)
                await listener.DisposeAsync();
        }
    }

    /// <summary>A connection of its own to the primary, listening on <see cref="Channel"/>.</summary>
    async Task<NpgsqlConnection> ListenAsync(CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        await using var listen = new NpgsqlCommand($"LISTEN {Channel}", connection);
        await listen.ExecuteNonQueryAsync(ct);
        return connection;
    }

    /// <summary>One look: nothing to do while the database agrees with memory (the usual case: no lock is taken).</summary>
    internal async Task FollowAsync(CancellationToken ct)
    {
        var rows = await store.ReadAsync(ct);
        if (Agrees(rows))
            return;
        // A set this instance has not loaded is loaded outside the lock (it takes seconds), then used if still wanted.
        var loaded = await LoadMissingAsync(rows, ct);
        using (await models.WriteLockAsync(ct))
        {
            rows = await store.ReadAsync(ct); // again under the lock: a switch of this instance's own may have happened meanwhile
            var live = rows.First(r => r.Status == ModelStatus.Live);
            var standby = rows.FirstOrDefault(r => ModelStatus.IsStandby(r.Status));
            if (models.Live.Name != live.Name && Find(live.Name, loaded) is { } newLive)
            {
                // The standbys replay the switch's renames before any statement here filters on the new set.
                await watch.CatchUpWithPrimaryAsync(ct);
                var previous = models.Live;
                models.Switch(newLive, previous);
                LogFollowed(live.Name, previous.Name);
            }
            if (standby is null)
            {
                if (models.Standby is not null)
                    models.ReplaceStandby(null);
            }
            else if (models.Standby?.Set.Name != standby.Name)
            {
                if (Find(standby.Name, loaded) is { } set)
                    models.ReplaceStandby(new StandbySet(set, standby.Status));
            }
            else if (models.Standby.Status != standby.Status)
                models.Advance(models.Standby.Set, standby.Status);
        }
        foreach (var set in loaded.Where(s => s != models.Live && s != models.Standby?.Set))
            await set.Pipeline.DisposeAsync();
    }

    bool Agrees(List<ModelSetRow> rows)
    {
        var standby = rows.FirstOrDefault(r => ModelStatus.IsStandby(r.Status));
        return rows.Any(r => r.Status == ModelStatus.Live && r.Name == models.Live.Name)
            && (standby is null ? models.Standby is null : models.Standby is { } s && s.Set.Name == standby.Name && s.Status == standby.Status);
    }

    ModelSet? Find(string name, List<ModelSet> loaded) =>
        models.Live.Name == name ? models.Live
        : models.Standby?.Set is { } standby && standby.Name == name ? standby
        : loaded.FirstOrDefault(s => s.Name == name);

    async Task<List<ModelSet>> LoadMissingAsync(List<ModelSetRow> rows, CancellationToken ct)
    {
        var loaded = new List<ModelSet>();
        foreach (var row in rows.Where(r => r.Status == ModelStatus.Live || ModelStatus.IsStandby(r.Status)))
        {
            if (models.Live.Name == row.Name || models.Standby?.Set.Name == row.Name)
                continue;
            if (!ModelSetLoader.TryLoadManifest(row.Directory, row.Fingerprint, out var manifest, out var why))
            {
                LogCannotLoad(row.Name, row.Directory, why);
                continue;
            }
            ct.ThrowIfCancellationRequested();
            loaded.Add(await loader.LoadAsync(row.Name, manifest, row.Directory, row.Owned));
        }
        return loaded;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model set {Name} is live (activated by another instance); {Previous} is kept ready for a rollback")]
    partial void LogFollowed(string name, string previous);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model set {Name}, recorded by another instance, cannot be loaded from {Directory}: {Why}")]
    partial void LogCannotLoad(string name, string directory, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Following the database's model sets failed; tried again shortly")]
    partial void LogFollowFailed(Exception exception);
}
