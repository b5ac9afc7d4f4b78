using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Similarity.Encoders;

namespace Similarity.Bench;

/// <summary>
/// Items/s through the service's pipeline (bytes or text in, coalesced by the micro-batcher) next to the bare
/// ONNX Runtime session fed ready-made tensors, at batch 1 and 32, in one run on one machine.
/// </summary>
public static class EncoderBenchmark
{
    const int Batch = 32;

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var manifest = ModelManifest.Load(args.Get("manifest"));
        var seconds = args.GetInt("seconds", 20);
        var inference = new InferenceOptions { MaxBatchSize = Batch, MaxBatchDelayMilliseconds = 2 };
        var pipeline = EmbeddingPipeline.Create(manifest, inference, new InputLimits(), NullLogger.Instance);
        var images = SampleImages.Load(args.Get("images"), 64);
        var texts = Enumerable.Range(0, 64).Select(CatalogLikeText).ToArray();
        Console.Error.WriteLine($"models {manifest.Name} ({manifest.Fingerprint}), {Environment.ProcessorCount} cores, {seconds} s per measurement");

        // Ready-made tensors for the bare session: decoded and tokenised once, outside the timing.
        var imageTensor = new float[Batch * pipeline.Image.Preprocessor.TensorLength];
        for (var i = 0; i < Batch; i++)
            pipeline.Image.Preprocessor.Decode(images[i], imageTensor.AsSpan(i * pipeline.Image.Preprocessor.TensorLength, pipeline.Image.Preprocessor.TensorLength), "image");
        var tokenised = texts.Take(Batch).Select(pipeline.Text.Preprocessor.Encode).ToArray();
        var length = tokenised.Max(t => t.Length);
        var (ids, mask, types) = (new long[Batch * length], new long[Batch * length], new long[Batch * length]);
        for (var i = 0; i < Batch; i++)
            for (var t = 0; t < tokenised[i].Length; t++)
                (ids[i * length + t], mask[i * length + t]) = (tokenised[i][t], 1);
        // At batch 1 the bare session gets the same padded length as in the batch of 32, as the pipeline's lone item does not.
        var singleLength = tokenised[0].Length;

        var rows = new List<(string Encoder, int Batch, double Bare, double Pipeline)>();
        var n = 0;
        rows.Add(("image (ResNet)", 1,
            Measure(seconds, 1, () => pipeline.Image.RunTensor(imageTensor.AsMemory(0, pipeline.Image.Preprocessor.TensorLength), 1)),
            await MeasureConcurrent(seconds, 1, () => pipeline.Image.EncodeAsync(images[Interlocked.Increment(ref n) % images.Count], "image", default))));
        rows.Add(("image (ResNet)", Batch,
            Measure(seconds, Batch, () => pipeline.Image.RunTensor(imageTensor, Batch)),
            await MeasureConcurrent(seconds, Batch, () => pipeline.Image.EncodeAsync(images[Interlocked.Increment(ref n) % images.Count], "image", default))));
        rows.Add(("text (BERT)", 1,
            Measure(seconds, 1, () => pipeline.Text.RunTensors(ids.AsMemory(0, singleLength), mask.AsMemory(0, singleLength), types.AsMemory(0, singleLength), 1, singleLength)),
            await MeasureConcurrent(seconds, 1, () => pipeline.Text.EncodeAsync(texts[0], default))));
        rows.Add(("text (BERT)", Batch,
            Measure(seconds, Batch, () => pipeline.Text.RunTensors(ids, mask, types, Batch, length)),
            await MeasureConcurrent(seconds, Batch, () => pipeline.Text.EncodeAsync(texts[Interlocked.Increment(ref n) % Batch], default))));

        Console.WriteLine($"| encoder | batch | bare session (items/s) | pipeline (items/s) | pipeline / bare |");
        Console.WriteLine($"|---|---:|---:|---:|---:|");
        foreach (var row in rows)
            Console.WriteLine($"| {row.Encoder} | {row.Batch} | {row.Bare:F1} | {row.Pipeline:F1} | {row.Pipeline / row.Bare:F2} |");
        return 0;
    }

    /// <summary>A product title of 10–25 words, the length a catalog's composed text has.</summary>
    static string CatalogLikeText(int i)
    {
        string[] words = ["red", "cotton", "shirt", "slim", "fit", "men", "summer", "classic", "soft", "premium", "blue", "wool", "jacket", "warm", "winter"];
        return string.Join(' ', Enumerable.Range(0, 10 + i % 16).Select(j => words[(i * 7 + j * 3) % words.Length])) + $" size {i % 5}";
    }

    /// <summary>Items/s of a synchronous call run back to back, after one warm-up call.</summary>
    internal static double Measure(int seconds, int itemsPerCall, Action call)
    {
        call();
        var watch = Stopwatch.StartNew();
        var calls = 0;
        while (watch.Elapsed.TotalSeconds < seconds || calls < 3)
        {
            call();
            calls++;
        }
        return calls * itemsPerCall / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Items/s with <paramref name="clients"/> callers each keeping one request in flight, as a loaded service sees.</summary>
    internal static async Task<double> MeasureConcurrent(int seconds, int clients, Func<Task<float[]>> request)
    {
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => request()));
        var watch = Stopwatch.StartNew();
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (watch.Elapsed.TotalSeconds < seconds)
            {
                await request();
                Interlocked.Increment(ref done);
            }
        }));
        return done / watch.Elapsed.TotalSeconds;
    }
}
