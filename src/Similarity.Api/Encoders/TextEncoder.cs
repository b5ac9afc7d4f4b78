using System.Diagnostics;
using System.Buffers;
using Microsoft.ML.OnnxRuntime;

namespace Similarity.Encoders;

/// <summary>The BERT text encoder: tokenises on the caller's thread, runs coalesced batches, pools per the manifest.</summary>
public sealed class TextEncoder : IAsyncDisposable
{
    readonly InferenceSession _session;
    readonly TextModel _model;
    readonly MicroBatcher<int[], float[]> _batcher;
    readonly string[] _inputNames;
    readonly string[] _outputNames;
    readonly RunOptions _runOptions = new();
    readonly EncoderThreads _threads;

    public TextEncoder(InferenceSession session, TextModel model, TextPreprocessor preprocessor, InferenceOptions options, EncoderThreads threads, ILogger logger)
    {
        _session = session;
        _threads = threads;
        _model = model;
        Preprocessor = preprocessor;
        _inputNames = model.Inputs.TokenTypeIds is { } types
            ? [model.Inputs.InputIds, model.Inputs.AttentionMask, types]
            : [model.Inputs.InputIds, model.Inputs.AttentionMask];
        _outputNames = [model.Output];
        foreach (var name in _inputNames.Where(n => !session.InputMetadata.ContainsKey(n)))
            throw new InvalidOperationException($"{model.File} has no input '{name}' (text.inputs); it has: {string.Join(", ", session.InputMetadata.Keys)}.");
        if (!session.OutputMetadata.ContainsKey(model.Output))
            throw new InvalidOperationException($"{model.File} has no output '{model.Output}' (text.output); it has: {string.Join(", ", session.OutputMetadata.Keys)}.");
        _batcher = new MicroBatcher<int[], float[]>("text", RunBatch, options.MaxBatchSize,
            TimeSpan.FromMilliseconds(options.MaxBatchDelayMilliseconds), options.MaxQueuedItems, logger);
    }

    public TextPreprocessor Preprocessor { get; }

    public int Dimension => _model.Dimension;

    /// <summary>Each run of the model, by requests or by imports (tests, metrics).</summary>
    public event Action<ModelRun>? ModelRan;

    /// <summary>Items waiting for a model run.</summary>
    public int Queued => _batcher.Queued;

    /// <summary>Why the batching loop stopped for good, or null while it runs.</summary>
    public Exception? Fault => _batcher.Fault;

    public Task<float[]> EncodeAsync(string text, CancellationToken cancellationToken) =>
        _batcher.EnqueueAsync(Preprocessor.Encode(text), cancellationToken);

    /// <summary>Sequences per model run when a large batch is split by length.</summary>
    const int LengthBucket = 32;

    /// <summary>
    /// Embeds the sequences in runs of up to 32 of similar length, so short texts are not padded to the longest
    /// one of a large batch; each run pads to its own longest (mask 0 on padding). Results keep the input order.
    /// </summary>
    public Outcome<float[]>[] RunBatch(IReadOnlyList<int[]> sequences)
    {
        if (sequences.Count <= LengthBucket)
            return RunPadded(sequences);
        var order = Enumerable.Range(0, sequences.Count).OrderBy(i => sequences[i].Length).ToArray();
        var outcomes = new Outcome<float[]>[sequences.Count];
        foreach (var chunk in order.Chunk(LengthBucket))
        {
            var results = RunPadded([.. chunk.Select(i => sequences[i])]);
            for (var j = 0; j < chunk.Length; j++)
                outcomes[chunk[j]] = results[j];
        }
        return outcomes;
    }

    Outcome<float[]>[] RunPadded(IReadOnlyList<int[]> sequences)
    {
        var count = sequences.Count;
        var length = sequences.Max(s => s.Length);
        var ids = ArrayPool<long>.Shared.Rent(count * length);
        var mask = ArrayPool<long>.Shared.Rent(count * length);
        var types = ArrayPool<long>.Shared.Rent(count * length);
        try
        {
            Array.Clear(ids, 0, count * length);
            Array.Clear(mask, 0, count * length);
            Array.Clear(types, 0, count * length);
            for (var i = 0; i < count; i++)
            {
                for (var t = 0; t < sequences[i].Length; t++)
                {
                    ids[i * length + t] = sequences[i][t];
                    mask[i * length + t] = 1;
                }
            }
            var vectors = RunTensors(ids.AsMemory(0, count * length), mask.AsMemory(0, count * length), types.AsMemory(0, count * length), count, length);
            return [.. vectors.Select(v => new Outcome<float[]>(v, null))];
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<long>.Shared.Return(mask);
            ArrayPool<long>.Shared.Return(types);
        }
    }

    /// <summary>The bare session on ready-made [count, length] id, mask and type tensors, pooled per the manifest.</summary>
    public float[][] RunTensors(Memory<long> ids, Memory<long> mask, Memory<long> types, int count, int length)
    {
        long[] shape = [count, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, types, shape);
        OrtValue[] inputs = _inputNames.Length == 3 ? [idsValue, maskValue, typesValue] : [idsValue, maskValue];
        // ModelRan is told on the encoder thread that ran the model.
        using var outputs = _threads.Invoke(() =>
        {
            var start = Stopwatch.GetTimestamp();
            var run = _session.Run(_runOptions, _inputNames, inputs, _outputNames);
            ModelRan?.Invoke(new ModelRun(count, Stopwatch.GetElapsedTime(start)));
            return run;
        });
        var data = outputs[0].GetTensorDataAsSpan<float>();
        var maskSpan = mask.Span;
        var vectors = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var vector = vectors[i] = new float[_model.Dimension];
            if (_model.OutputKind == TextOutputKind.Pooled)
                data.Slice(i * _model.Dimension, _model.Dimension).CopyTo(vector);
            else if (_model.Pooling == TextPooling.Cls)
                Pooling.Cls(data, i, length, _model.Dimension, vector);
            else
                Pooling.MeanOverMask(data, maskSpan, i, length, _model.Dimension, vector);
        }
        return vectors;
    }

    public async ValueTask DisposeAsync()
    {
        await _batcher.DisposeAsync();
        _session.Dispose();
        _runOptions.Dispose();
    }
}
