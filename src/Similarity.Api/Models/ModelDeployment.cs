using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Encoders;

namespace Similarity.Models;

/// <summary>
/// The standby set's way up: a bundle deployed as the candidate (<c>PUT /models/{name}</c>), set embedding
/// (<c>POST /models/{name}/embed</c>), and made ready by the embedding job. One standby set at a time: the
/// database's unique indexes hold it, and a deploy is refused while another set has the place.
/// </summary>
internal sealed partial class ModelDeployment(ModelSets models, ModelSetStore store, ModelSetLoader loader, IOptions<ModelOptions> options,
    ILogger<ModelDeployment> logger)
{
    string StorePath => Path.GetFullPath(options.Value.StorePath);

    /// <summary>
    /// Unpacks the bundle into the store, loads and checks it as the start does (SHA-256 of every file, shapes and
    /// dimensions, a trial run), and records it as the candidate in the standby columns. Bad bundles throw
    /// <see cref="ModelBundleException"/>; a name or set already known, or a standby slot already taken, throw
    /// <see cref="ModelSetRefusedException"/>.
    /// </summary>
    public async Task DeployAsync(string name, string bundleFile, CancellationToken ct)
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
                set = await loader.LoadAsync(name, ModelManifest.Load(Path.Combine(final, "manifest.json")), final, owned: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                Directory.Delete(final, recursive: true);
                throw new ModelBundleException(ex.Message.Replace(final + Path.DirectorySeparatorChar, "").Replace(final, "the bundle"));
            }
            try
            {
                await store.InsertCandidateAsync(name, set.Pipeline.Manifest, final, ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                await set.Pipeline.DisposeAsync();
                Directory.Delete(final, recursive: true);
                await RefuseIfTakenAsync(name, set.Fingerprint, ct);
                throw;
            }
            models.ReplaceStandby(new StandbySet(set, ModelStatus.Candidate));
            LogDeployed(name, set.Fingerprint);
        }
        finally
        {
            if (Directory.Exists(unpacked))
                Directory.Delete(unpacked, recursive: true);
        }
    }

    async Task RefuseIfTakenAsync(string name, string fingerprint, CancellationToken ct)
    {
        foreach (var row in await store.ReadAsync(ct))
        {
            if (row.Name == name)
                throw new ModelSetRefusedException(ModelRefusal.NameTaken,
                    $"A model set named '{name}' exists ({row.Status}); deploy under another name" + (row.Status == ModelStatus.Retired ? "." : $", or DELETE /models/{name} first."));
            if (row.Fingerprint == fingerprint && row.Status != ModelStatus.Retired)
                throw new ModelSetRefusedException(ModelRefusal.SameSet, $"These files are model set '{row.Name}' ({row.Status}, fingerprint {fingerprint}).");
            if (ModelStatus.IsStandby(row.Status))
                throw new ModelSetRefusedException(ModelRefusal.StandbySlotTaken,
                    $"Model set '{row.Name}' ({row.Status}) holds the standby vectors; the service keeps one set beside the live one. DELETE /models/{row.Name} first.");
        }
    }

    /// <summary>The candidate starts embedding (the background job picks it up); again, it is a no-op.</summary>
    public async Task StartEmbeddingAsync(string name, CancellationToken ct)
    {
        var standby = models.RequireStandby(name, await store.ReadAsync(ct));
        if (models.Standby?.Status != ModelStatus.Candidate)
            return;
        await store.AdvanceAsync(standby.Name, ModelStatus.Candidate, ModelStatus.Embedding, ct);
        models.Advance(standby, ModelStatus.Embedding);
    }

    /// <summary>The embedding job's end: every item is embedded and the standby index built.</summary>
    internal async Task MarkReadyAsync(ModelSet set, CancellationToken ct)
    {
        await store.AdvanceAsync(set.Name, ModelStatus.Embedding, ModelStatus.Ready, ct);
        models.Advance(set, ModelStatus.Ready);
        LogReady(set.Name);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model set {Name} deployed as the candidate (fingerprint {Fingerprint})")]
    partial void LogDeployed(string name, string fingerprint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model set {Name} is ready: every item embedded, its index built")]
    partial void LogReady(string name);
}
