using System.Diagnostics;
using Similarity.Fusion;

namespace Similarity.Encoders;

/// <summary>Per-stage wall times of one embedding, in milliseconds.</summary>
public sealed record StageTimings(double ImageMs, double TextMs, double FusionMs, double TotalMs);

/// <summary>One item's raw encoder vectors, its fusion and how long each stage took.</summary>
public sealed record ItemEmbedding(float[]? Image, float[]? Text, FusionResult Fusion, string Fingerprint, StageTimings Timings);

/// <summary>
/// Image and/or text → encoders (in parallel) → attention fusion. The one way every vector is made. Disposing it
/// (the host does, at shutdown) stops the batchers after their queued work and frees the ONNX sessions.
/// </summary>
public sealed class EmbeddingPipeline(ModelManifest manifest, ImageEncoder image, TextEncoder text, AttentionFusion fusion) : IAsyncDisposable
{
    public ModelManifest Manifest => manifest;
    public ImageEncoder Image => image;
    public TextEncoder Text => text;
    public AttentionFusion Fusion => fusion;
    public string Fingerprint => manifest.Fingerprint;

    /// <summary>One session per model, the tokenizer and the fusion layer, built from a loaded manifest.</summary>
    public static EmbeddingPipeline Create(ModelManifest manifest, InferenceOptions inference, InputLimits limits, ILogger logger)
    {
        var image = new ImageEncoder(OnnxSessions.Create(manifest.PathOf(manifest.Image.File), inference, logger),
            manifest.Image, new ImagePreprocessor(manifest.Image.Preprocessing, limits), inference, logger);
        var text = new TextEncoder(OnnxSessions.Create(manifest.PathOf(manifest.Text.File), inference, logger),
            manifest.Text, TextPreprocessor.Create(manifest.PathOf(manifest.Text.Tokenizer.Vocab), manifest.Text.Tokenizer), inference, logger);
        var fusion = AttentionFusion.Load(manifest.PathOf(manifest.Fusion.File), manifest.Image.Dimension, manifest.Text.Dimension, manifest.Fusion.Dimension);
        return new EmbeddingPipeline(manifest, image, text, fusion);
    }

    /// <summary>Embeds an item; a null or empty image or blank text is a missing modality, not an error.</summary>
    public async Task<ItemEmbedding> EmbedAsync(byte[]? imageBytes, string? itemText, CancellationToken cancellationToken)
    {
        var hasImage = imageBytes is { Length: > 0 };
        var hasText = !string.IsNullOrWhiteSpace(itemText);
        if (!hasImage && !hasText)
            throw new InputRejectedException("image", "Send an image file, a text, or both.");

        var total = Stopwatch.StartNew();
        var imageTask = hasImage ? Timed(image.EncodeAsync(imageBytes!, "image", cancellationToken)) : Task.FromResult<(float[]?, double)>((null, 0));
        var textTask = hasText ? Timed(text.EncodeAsync(itemText!, cancellationToken)) : Task.FromResult<(float[]?, double)>((null, 0));
        var (imageVector, imageMs) = await imageTask;
        var (textVector, textMs) = await textTask;

        var fusionStart = Stopwatch.GetTimestamp();
        var fused = fusion.Fuse(imageVector, textVector);
        var fusionMs = Stopwatch.GetElapsedTime(fusionStart).TotalMilliseconds;
        return new ItemEmbedding(imageVector, textVector, fused, manifest.Fingerprint,
            new StageTimings(imageMs, textMs, fusionMs, total.Elapsed.TotalMilliseconds));
    }

    public async ValueTask DisposeAsync()
    {
        await image.DisposeAsync();
        await text.DisposeAsync();
    }

    static async Task<(float[]?, double)> Timed(Task<float[]> task)
    {
        var start = Stopwatch.GetTimestamp();
        var vector = await task;
        return (vector, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }
}
