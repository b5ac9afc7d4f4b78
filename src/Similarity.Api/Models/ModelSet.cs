using Similarity.Encoders;

namespace Similarity.Models;

/// <summary>A model set the service has loaded: its name, its encoders and what it costs.</summary>
public sealed record ModelSet(string Name, EmbeddingPipeline Pipeline, string Directory, bool Owned, long BundleBytes, long MemoryBytes)
{
    public string Fingerprint => Pipeline.Fingerprint;

    public int Dimension => Pipeline.Fusion.Dimension;

    /// <summary>
    /// One run of each model and the fusion on blank input, checking what comes out against the manifest: a model
    /// set that cannot serve is refused before it is used (at start, and by <c>PUT /models/{name}</c>).
    /// </summary>
    public static void TrialRun(EmbeddingPipeline pipeline)
    {
        var manifest = pipeline.Manifest;
        var image = pipeline.Image.RunTensor(new float[pipeline.Image.Preprocessor.TensorLength], 1)[0];
        var text = pipeline.Text.RunBatch([pipeline.Text.Preprocessor.Encode("trial run")])[0].Value
            ?? throw new InvalidOperationException($"{manifest.Text.File} failed its trial run.");
        var fused = pipeline.Fusion.Fuse(image, text).Fused;
        if (fused.Length != manifest.Fusion.Dimension)
            throw new InvalidOperationException($"{manifest.Fusion.File} makes {fused.Length}-d vectors but fusion.dimension is {manifest.Fusion.Dimension}.");
        if (fused.Any(v => !float.IsFinite(v)) || image.Any(v => !float.IsFinite(v)) || text.Any(v => !float.IsFinite(v)))
            throw new InvalidOperationException("The trial run gave vectors that are not finite (NaN or infinity).");
    }
}
