using System.Diagnostics;
using Similarity.Fusion;
using Similarity.Hosting;

namespace Similarity.Encoders;

/// <summary>Per-stage wall times of one embedding, in milliseconds.</summary>
public sealed record StageTimings(double ImageMs, double TextMs, double FusionMs, double TotalMs);

/// <summary>One item's raw encoder vectors, its fusion and how long each stage took.</summary>
public sealed record ItemEmbedding(float[]? Image, float[]? Text, FusionResult Fusion, string Fingerprint, StageTimings Timings);

/// <summary>One item of a batch to embed: its picture (null or empty: none) and its text (null or blank: none).</summary>
public sealed record EmbeddingInput(byte[]? Image, string? Text)
{
    public bool HasImage => Image is { Length: > 0 };

    public bool HasText => !string.IsNullOrWhiteSpace(Text);
}

/// <summary>
/// A batch whose pictures are decoded (into one pooled tensor) and whose texts are tokenised, waiting for
/// <see cref="EmbeddingPipeline.EmbedBatch(EmbeddingBatch)"/>. <see cref="WithImage"/> and <see cref="WithText"/>
/// are the indices of the items that have each modality, in the order of the tensor's slots and of the tokens.
/// </summary>
public sealed class EmbeddingBatch(int count, int[] withImage, ImageEncoder.DecodedBatch? images, int[] withText, int[][] tokens) : IDisposable
{
    public int Count => count;
    internal int[] WithImage => withImage;
    internal ImageEncoder.DecodedBatch? Images => images;
    internal int[] WithText => withText;
    internal int[][] Tokens => tokens;

    /// <summary>Returns the pictures' tensor to the pool.</summary>
    public void Dispose() => images?.Dispose();
}

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

    /// <summary>
    /// One session per model, the tokenizer and the fusion layer, built from a loaded manifest. The sessions are
    /// created on the <see cref="EncoderThreads"/> of <see cref="InferenceOptions.EncoderNice"/>, so that ONNX
    /// Runtime's pool threads inherit their priority, and every model run happens there.
    /// </summary>
    public static EmbeddingPipeline Create(ModelManifest manifest, InferenceOptions inference, InputLimits limits, ILogger logger)
    {
        var threads = EncoderThreads.For(inference.EncoderNice);
        var image = new ImageEncoder(threads.Invoke(() => OnnxSessions.Create(manifest.PathOf(manifest.Image.File), inference, logger)),
            manifest.Image, new ImagePreprocessor(manifest.Image.Preprocessing, limits), inference, threads, logger);
        var text = new TextEncoder(threads.Invoke(() => OnnxSessions.Create(manifest.PathOf(manifest.Text.File), inference, logger)),
            manifest.Text, TextPreprocessor.Create(manifest.PathOf(manifest.Text.Tokenizer.Vocab), manifest.Text.Tokenizer), inference, threads, logger);
        var fusion = AttentionFusion.Load(manifest.PathOf(manifest.Fusion.File), manifest.Image.Dimension, manifest.Text.Dimension, manifest.Fusion.Dimension);
        return new EmbeddingPipeline(manifest, image, text, fusion);
    }

    /// <summary>Embeds an item; a null or empty image or blank text is a missing modality, not an error.</summary>
    public async Task<ItemEmbedding> EmbedAsync(byte[]? imageBytes, string? itemText, CancellationToken cancellationToken)
    {
        var hasImage = imageBytes is { Length: > 0 };
        var hasText = !string.IsNullOrWhiteSpace(itemText);
        if (!hasImage && !hasText)
            throw NothingToEmbed();

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

    /// <summary>
    /// Decodes a batch's pictures into one pooled tensor and tokenises its texts, without running the models: a
    /// caller may prepare the next batch while <see cref="EmbedBatch(EmbeddingBatch)"/> runs this one.
    /// </summary>
    public EmbeddingBatch PrepareBatch(IReadOnlyList<EmbeddingInput> items)
    {
        int[] withImage = [.. Enumerable.Range(0, items.Count).Where(i => items[i].HasImage)];
        int[] withText = [.. Enumerable.Range(0, items.Count).Where(i => items[i].HasText)];
        var images = withImage.Length == 0 ? null : image.Decode([.. withImage.Select(i => items[i].Image!)]);
        int[][] tokens = [.. withText.Select(i => text.Preprocessor.Encode(items[i].Text!))];
        return new EmbeddingBatch(items.Count, withImage, images, withText, tokens);
    }

    /// <summary>
    /// Runs a prepared batch: its pictures through the image encoder, then its texts through the text encoder, then
    /// fusion item by item. One encoder at a time: each already uses every core, and two at once only contend
    /// (docs/benchmarks.md). An item whose picture cannot be decoded, or that has neither modality, fails alone.
    /// </summary>
    public Outcome<FusionResult>[] EmbedBatch(EmbeddingBatch batch)
    {
        var images = batch.Images?.Run() ?? [];
        var texts = batch.Tokens.Length == 0 ? [] : text.RunBatch(batch.Tokens);
        var imageOf = new Outcome<float[]>?[batch.Count];
        for (var j = 0; j < batch.WithImage.Length; j++)
            imageOf[batch.WithImage[j]] = images[j];
        var textOf = new float[]?[batch.Count];
        for (var j = 0; j < batch.WithText.Length; j++)
            textOf[batch.WithText[j]] = texts[j].Value;
        var outcomes = new Outcome<FusionResult>[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            if (imageOf[i] is { Error: { } error })
                outcomes[i] = new(null, error);
            else if (imageOf[i] is null && textOf[i] is null)
                outcomes[i] = new(null, NothingToEmbed());
            else
                outcomes[i] = new(fusion.Fuse(imageOf[i]?.Value, textOf[i]), null);
        }
        return outcomes;
    }

    /// <summary>Prepares and runs a batch at once: fused and per-modality vectors, in the items' order.</summary>
    public Outcome<FusionResult>[] EmbedBatch(IReadOnlyList<EmbeddingInput> items)
    {
        using var batch = PrepareBatch(items);
        return EmbedBatch(batch);
    }

    public async ValueTask DisposeAsync()
    {
        await image.DisposeAsync();
        await text.DisposeAsync();
    }

    static InputRejectedException NothingToEmbed() => new("image", "Send an image file, a text, or both.");

    static async Task<(float[]?, double)> Timed(Task<float[]> task)
    {
        var start = Stopwatch.GetTimestamp();
        var vector = await task;
        return (vector, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }
}
