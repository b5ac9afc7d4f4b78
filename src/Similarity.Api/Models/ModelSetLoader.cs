using System.Diagnostics;
using Microsoft.Extensions.Options;
using Similarity.Encoders;
using Similarity.Hosting;

namespace Similarity.Models;

/// <summary>
/// Loads model sets: at start, the live set the database records (the configured manifest on a database with none)
/// and the standby set beside it; later, a deployed bundle. A set is loaded only whole: its sessions created and
/// run once on blank input, so one that cannot serve is refused before it is used.
/// </summary>
internal sealed partial class ModelSetLoader(ModelSets models, ModelSetStore store, IOptions<ModelOptions> options, IOptions<InferenceOptions> inference,
    IOptions<InputLimits> limits, SimilarityMetrics metrics, ILoggerFactory loggers, ILogger<ModelSetLoader> logger)
{
    /// <summary>
    /// At start, after the migrations: the live set from the database (the configured manifest on a database with
    /// none, registered as live), then the standby set if one is recorded. A live set that cannot be loaded stops
    /// the start, naming its folder; a standby one is logged and reported by health, and the service runs without it.
    /// </summary>
    public async Task LoadAtStartAsync(CancellationToken ct)
    {
        var configured = ModelManifest.Load(options.Value.Manifest);
        var rows = await store.ReadAsync(ct);
        var live = rows.FirstOrDefault(r => r.Status == ModelStatus.Live);
        if (live is null)
        {
            await store.InsertLiveAsync(UniqueName(configured.Name, rows), configured, ct);
            rows = await store.ReadAsync(ct); // another instance may have registered its own first
            live = rows.First(r => r.Status == ModelStatus.Live);
        }
        ModelManifest manifest;
        if (live.Fingerprint == configured.Fingerprint)
        {
            manifest = configured;
            if (live.Directory != configured.Directory)
                await store.SetDirectoryAsync(live.Name, configured.Directory, ct);
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
            await store.ReplaceLiveAsync(live.Name, UniqueName(configured.Name, rows), configured, ct);
            rows = await store.ReadAsync(ct);
            live = rows.First(r => r.Status == ModelStatus.Live);
            manifest = configured;
        }
        var liveSet = await LoadAsync(live.Name, manifest, live.Directory, live.Owned);
        metrics.Observe(liveSet.Pipeline);

        StandbySet? standbySet = null;
        string? standbyFault = null;
        if (rows.FirstOrDefault(r => ModelStatus.IsStandby(r.Status)) is { } standby)
        {
            try
            {
                if (!TryLoadManifest(standby.Directory, standby.Fingerprint, out var standbyManifest, out var why))
                    throw new InvalidOperationException(why);
                standbySet = new StandbySet(await LoadAsync(standby.Name, standbyManifest, standby.Directory, standby.Owned), standby.Status);
            }
            catch (Exception ex) when (ex is InvalidOperationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                standbyFault = $"The standby model set '{standby.Name}' cannot be loaded from {standby.Directory}; delete it (DELETE /models/{standby.Name}) or restore its files.";
                LogStandbyNotLoaded(standby.Name, standby.Directory, ex);
            }
        }
        models.Loaded(liveSet, standbySet, standbyFault);
    }

    /// <summary>A recorded set's manifest, if its folder still holds exactly the files it was recorded with.</summary>
    internal static bool TryLoadManifest(string directory, string fingerprint, out ModelManifest manifest, out string why)
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
    public async Task<ModelSet> LoadAsync(string name, ModelManifest manifest, string directory, bool owned)
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
        return new ModelSet(name, pipeline, directory, owned, ModelSetStore.BundleBytesOf(manifest), grown);
    }

    /// <summary>The manifest's own name where it fits the rules and is free, else one made from it.</summary>
    static string UniqueName(string wanted, List<ModelSetRow> rows)
    {
        var name = ModelBundle.IsValidName(wanted) ? wanted : "models";
        return rows.Any(r => r.Name == name) ? $"{name[..Math.Min(name.Length, 40)]}-{DateTime.UtcNow:yyyyMMddHHmmss}" : name;
    }

    /// <summary>Runs <see cref="LoadAtStartAsync"/> as the host starts: registered after the migrations, before anything that reads the live set.</summary>
    internal sealed class AtStartup(ModelSetLoader loader) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => loader.LoadAtStartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model set {Name} loaded (fingerprint {Fingerprint}), sessions created and run once in {Milliseconds:F0} ms")]
    partial void LogLoaded(string name, string fingerprint, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Similarity:Models:Manifest names {Configured} ({Fingerprint}), but the database's live model set is {Live}: it stays live. Deploy the configured one with PUT /models/{{name}}, then activate it")]
    partial void LogConfiguredNotLive(string configured, string fingerprint, string live);

    [LoggerMessage(Level = LogLevel.Error, Message = "The live model set {Name} ({Fingerprint}) recorded in the database cannot be loaded ({Why}); the configured set {Configured} is live instead, and items it did not embed answer 409 until they are sent again")]
    partial void LogLiveSetLost(string name, string fingerprint, string why, string configured);

    [LoggerMessage(Level = LogLevel.Error, Message = "The standby model set {Name} cannot be loaded from {Directory}; the service runs without it")]
    partial void LogStandbyNotLoaded(string name, string directory, Exception exception);
}
