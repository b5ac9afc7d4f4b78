using System.Buffers;
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Similarity.Hosting;

namespace Similarity.Encoders;

/// <summary>The ResNet image encoder: one shared session, requests coalesced by a <see cref="MicroBatcher{TIn,TOut}"/>.</summary>
public sealed class ImageEncoder : IAsyncDisposable
{
    readonly InferenceSession _session;
    readonly ImageModel _model;
    readonly MicroBatcher<byte[], float[]> _batcher;
    readonly string[] _inputNames;
    readonly string[] _outputNames;
    readonly RunOptions _runOptions = new();
    readonly EncoderThreads _threads;

    public ImageEncoder(InferenceSession session, ImageModel model, ImagePreprocessor preprocessor, InferenceOptions options, EncoderThreads threads, ILogger logger)
    {
        _session = session;
        _threads = threads;
        _model = model;
        Preprocessor = preprocessor;
        _inputNames = [model.Input];
        _outputNames = [model.Output];
        RequireNames(session, model);
        // The whole batch (its decode's share and the model run) on the encoder threads, below serving.
        _batcher = new MicroBatcher<byte[], float[]>("image", images => _threads.Invoke(() => RunBatch(images)), options.MaxBatchSize,
            TimeSpan.FromMilliseconds(options.MaxBatchDelayMilliseconds), options.MaxQueuedItems, logger);
    }

    public ImagePreprocessor Preprocessor { get; }

    public int Dimension => _model.Dimension;

    /// <summary>Each run of the model, by requests or by imports (tests, metrics).</summary>
    public event Action<ModelRun>? ModelRan;

    /// <summary>Items waiting for a model run.</summary>
    public int Queued => _batcher.Queued;

    /// <summary>Why the batching loop stopped for good, or null while it runs.</summary>
    public Exception? Fault => _batcher.Fault;

    /// <summary>Checks the image's header, then embeds it in the next batch.</summary>
    public Task<float[]> EncodeAsync(byte[] image, string field, CancellationToken cancellationToken)
    {
        Preprocessor.Check(image, field);
        return _batcher.EnqueueAsync(image, cancellationToken);
    }

    /// <summary>Decodes every image straight into its slot of one batch tensor (in parallel), then runs the model once.</summary>
    public Outcome<float[]>[] RunBatch(IReadOnlyList<byte[]> images)
    {
        using var decoded = Decode(images);
        return decoded.Run();
    }

    /// <summary>
    /// Decodes a batch into a pooled tensor, in parallel, without running the model: lets a caller decode the
    /// next batch while the current one runs. An image that cannot be decoded fails alone.
    /// </summary>
    public DecodedBatch Decode(IReadOnlyList<byte[]> images)
    {
        var length = Preprocessor.TensorLength;
        var buffer = ArrayPool<float>.Shared.Rent(Math.Max(1, images.Count) * length);
        var errors = new Exception?[images.Count];
        // No more threads than may decode at once: the others would only block on the decode budget.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Preprocessor.MaxConcurrentDecodes };
        Parallel.For(0, images.Count, parallel, i =>
        {
            var slot = buffer.AsSpan(i * length, length);
            try
            {
                Preprocessor.Decode(images[i], slot, "image");
            }
            catch (InputRejectedException ex)
            {
                errors[i] = ex;
                slot.Clear(); // the slot still runs; its output is dropped
            }
        });
        return new DecodedBatch(this, buffer, images.Count, errors);
    }

    /// <summary>A decoded batch waiting for its model run; returns its buffer to the pool when disposed.</summary>
    public sealed class DecodedBatch(ImageEncoder encoder, float[] buffer, int count, Exception?[] errors) : IDisposable
    {
        public int Count => count;

        public Outcome<float[]>[] Run()
        {
            var vectors = count == 0 ? [] : encoder.RunTensor(buffer.AsMemory(0, count * encoder.Preprocessor.TensorLength), count);
            var outcomes = new Outcome<float[]>[count];
            for (var i = 0; i < count; i++)
                outcomes[i] = errors[i] is { } error ? new(null, error) : new(vectors[i], null);
            return outcomes;
        }

        public void Dispose() => ArrayPool<float>.Shared.Return(buffer);
    }

    /// <summary>The bare session on a ready-made NCHW tensor of <paramref name="count"/> images.</summary>
    public float[][] RunTensor(Memory<float> tensor, int count)
    {
        var crop = Preprocessor.Crop;
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, tensor, [count, 3, crop, crop]);
        // ModelRan is told on the encoder thread that ran the model.
        using var outputs = _threads.Invoke(() =>
        {
            var start = Stopwatch.GetTimestamp();
            var run = _session.Run(_runOptions, _inputNames, [input], _outputNames);
            ModelRan?.Invoke(new ModelRun(count, Stopwatch.GetElapsedTime(start)));
            return run;
        });
        var output = outputs[0];
        var shape = output.GetTensorTypeAndShape().Shape;
        var data = output.GetTensorDataAsSpan<float>();
        var vectors = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var vector = vectors[i] = new float[_model.Dimension];
            if (_model.OutputKind == ImageOutputKind.FeatureMap)
                Pooling.GlobalAverage(data, i, (int)shape[1], (int)(shape[2] * shape[3]), vector);
            else
                data.Slice(i * _model.Dimension, _model.Dimension).CopyTo(vector);
        }
        return vectors;
    }

    static void RequireNames(InferenceSession session, ImageModel model)
    {
        if (!session.InputMetadata.ContainsKey(model.Input))
            throw new InvalidOperationException($"{model.File} has no input '{model.Input}' (image.input); it has: {string.Join(", ", session.InputMetadata.Keys)}.");
        if (!session.OutputMetadata.TryGetValue(model.Output, out var output))
            throw new InvalidOperationException($"{model.File} has no output '{model.Output}' (image.output); it has: {string.Join(", ", session.OutputMetadata.Keys)}.");
        var channels = output.Dimensions.Length > 1 ? output.Dimensions[1] : -1;
        if (channels > 0 && channels != model.Dimension)
            throw new InvalidOperationException($"{model.File} outputs {channels} channels but image.dimension is {model.Dimension}.");
    }

    public async ValueTask DisposeAsync()
    {
        await _batcher.DisposeAsync();
        _session.Dispose();
        _runOptions.Dispose();
        Preprocessor.Dispose();
    }
}
