using System.ComponentModel.DataAnnotations;

namespace Similarity.Encoders;

/// <summary><c>Similarity:Inference</c>: how ONNX Runtime runs and how requests are batched.</summary>
public sealed class InferenceOptions : IValidatableObject
{
    public const string Section = "Similarity:Inference";

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>auto</c>. CUDA falls back to CPU, with one warning, where it is not available.</summary>
    [RegularExpression("^(cpu|cuda|auto)$", ErrorMessage = "Similarity:Inference:Device must be cpu, cuda or auto.")]
    public string Device { get; set; } = "cpu";

    /// <summary>Threads inside one operator (0: ONNX Runtime's default, one per core).</summary>
    [Range(0, 256)] public int IntraOpThreads { get; set; }

    /// <summary>Threads across independent operators (0: default).</summary>
    [Range(0, 256)] public int InterOpThreads { get; set; }

    /// <summary>
    /// Let ONNX Runtime's threads spin between runs (its default). Turning it off frees the cores for decoding
    /// sooner but slows each run: on the 2-core machine it left pipeline throughput unchanged and made single
    /// requests slower (docs/benchmarks.md), so it stays on.
    /// </summary>
    public bool AllowSpinning { get; set; } = true;

    /// <summary>
    /// Linux nice value of the threads that run the models (<see cref="EncoderThreads"/>): 0 runs them as serving;
    /// 10 (the default) lets /similar and the database take the cores first while the encoders still use every idle one.
    /// </summary>
    [Range(0, 19)] public int EncoderNice { get; set; } = 10;

    /// <summary>Most items one model run takes; concurrent requests are coalesced up to this.</summary>
    [Range(1, 256)] public int MaxBatchSize { get; set; } = 32;

    /// <summary>How long a batch that already holds two or more items waits for more. A lone request never waits.</summary>
    [Range(0, 100)] public int MaxBatchDelayMilliseconds { get; set; } = 2;

    /// <summary>Most items waiting for a model run, per encoder; beyond it a request is refused with 503 at once.</summary>
    [Range(1, 100_000)] public int MaxQueuedItems { get; set; } = 256;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxQueuedItems < MaxBatchSize)
            yield return new ValidationResult(
                $"Similarity:Inference:MaxQueuedItems ({MaxQueuedItems}) must be at least Similarity:Inference:MaxBatchSize ({MaxBatchSize}), or batches never fill.",
                [nameof(MaxQueuedItems)]);
    }
}

/// <summary><c>Similarity:Limits</c>: what the service accepts before it spends work on an input.</summary>
public sealed class InputLimits
{
    public const string Section = "Similarity:Limits";

    [Range(1, 512L * 1024 * 1024)] public long MaxImageBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Width × height read from the header, checked before a pixel is decoded.</summary>
    [Range(1, 1_000_000_000L)] public long MaxImagePixels { get; set; } = 40_000_000;

    /// <summary>
    /// Memory one decode may take, from the header: width × height × bands × bytes per band at the scale the
    /// loader decodes (JPEG and WebP shrink on load; PNG and GIF are counted at full size: libvips cannot shrink
    /// them on load, and an interlaced PNG or a GIF frame is decoded whole — docs/reliability.md has the figures).
    /// A 16-bit RGBA PNG takes 8 bytes a pixel, so a pixel count alone does not bound it.
    /// </summary>
    [Range(1024 * 1024, 16L * 1024 * 1024 * 1024)] public long MaxDecodedBytes { get; set; } = 128 * 1024 * 1024;

    /// <summary>Images decoded at once in the whole process (requests and imports together); the rest wait their turn.</summary>
    [Range(1, 256)] public int MaxConcurrentDecodes { get; set; } = 2;

    [Range(1, 1_000_000)] public int MaxTextCharacters { get; set; } = 20_000;
}
