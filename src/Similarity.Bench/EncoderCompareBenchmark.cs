using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.Extensions.Logging.Abstractions;
using Similarity.Encoders;

namespace Similarity.Bench;

/// <summary>
/// Two model sets with the same interface (an FP32 set and its INT8 twin) side by side in one run: images/s and
/// texts/s at batch 1, 8 and 32, bare ONNX Runtime on ready-made tensors and through the service's pipeline; then
/// the cosine between each item's two vectors (image, text, fused), its mean and 1st percentile.
/// </summary>
public static class EncoderCompareBenchmark
{
    static readonly int[] Batches = [1, 8, 32];

    public static async Task<int> RunAsync(string fp32Dir, string int8Dir, BenchArgs args)
    {
        var seconds = args.GetInt("seconds", 10);
        var items = args.GetInt("items", 200);
        var inference = new InferenceOptions { MaxBatchSize = Batches[^1], MaxBatchDelayMilliseconds = 2 };
        await using var fp32 = EmbeddingPipeline.Create(ModelManifest.Load(Path.Combine(fp32Dir, "manifest.json")), inference, new InputLimits(), NullLogger.Instance);
        await using var int8 = EmbeddingPipeline.Create(ModelManifest.Load(Path.Combine(int8Dir, "manifest.json")), inference, new InputLimits(), NullLogger.Instance);
        var images = SampleImages.Load(args.Get("images"), Math.Max(items, Batches[^1]));
        var texts = SampleTexts(args.Get("images"), images.Count);
        Console.Error.WriteLine($"{fp32.Manifest.Name} ({fp32.Fingerprint}) vs {int8.Manifest.Name} ({int8.Fingerprint}), {Environment.ProcessorCount} cores, {seconds} s per measurement");

        Console.WriteLine("| encoder | batch | set | bare session (items/s) | pipeline (items/s) | pipeline / bare | INT8 / FP32 (bare) |");
        Console.WriteLine("|---|---:|---|---:|---:|---:|---:|");
        foreach (var batch in Batches)
        {
            var image32 = await MeasureImages(fp32, images, batch, seconds);
            var image8 = await MeasureImages(int8, images, batch, seconds);
            Row("image", batch, fp32, image32, null);
            Row("image", batch, int8, image8, image8.Bare / image32.Bare);
        }
        foreach (var batch in Batches)
        {
            var text32 = await MeasureTexts(fp32, texts, batch, seconds);
            var text8 = await MeasureTexts(int8, texts, batch, seconds);
            Row("text", batch, fp32, text32, null);
            Row("text", batch, int8, text8, text8.Bare / text32.Bare);
        }

        var cosines = (Image: new List<float>(), Text: new List<float>(), Fused: new List<float>());
        for (var i = 0; i < items; i++)
        {
            var a = await fp32.EmbedAsync(images[i], texts[i], default);
            var b = await int8.EmbedAsync(images[i], texts[i], default);
            cosines.Image.Add(TensorPrimitives.CosineSimilarity(a.Image, b.Image));
            cosines.Text.Add(TensorPrimitives.CosineSimilarity(a.Text, b.Text));
            cosines.Fused.Add(TensorPrimitives.CosineSimilarity(a.Fusion.Fused, b.Fusion.Fused));
        }
        Console.WriteLine();
        Console.WriteLine($"| FP32 vs INT8 vector, {items} items | cosine mean | cosine p1 | cosine min |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, values) in new[] { ("image (encoder output)", cosines.Image), ("text (pooled)", cosines.Text), ("fused", cosines.Fused) })
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {values.Average():F5} | {Percentile(values, 0.01):F5} | {values.Min():F5} |"));
        return 0;
    }

    static void Row(string encoder, int batch, EmbeddingPipeline set, (double Bare, double Pipeline) rate, double? ratio) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {encoder} | {batch} | {set.Manifest.Name} | {rate.Bare:F1} | {rate.Pipeline:F1} | {rate.Pipeline / rate.Bare:F2} | {(ratio is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) : "")} |"));

    static async Task<(double Bare, double Pipeline)> MeasureImages(EmbeddingPipeline set, List<byte[]> images, int batch, int seconds)
    {
        var length = set.Image.Preprocessor.TensorLength;
        var tensor = new float[batch * length];
        for (var i = 0; i < batch; i++)
            set.Image.Preprocessor.Decode(images[i], tensor.AsSpan(i * length, length), "image");
        var n = 0;
        return (EncoderBenchmark.Measure(seconds, batch, () => set.Image.RunTensor(tensor, batch)),
            await EncoderBenchmark.MeasureConcurrent(seconds, batch, () => set.Image.EncodeAsync(images[Interlocked.Increment(ref n) % images.Count], "image", default)));
    }

    static async Task<(double Bare, double Pipeline)> MeasureTexts(EmbeddingPipeline set, string[] texts, int batch, int seconds)
    {
        var tokenised = texts.Take(batch).Select(set.Text.Preprocessor.Encode).ToArray();
        var length = tokenised.Max(t => t.Length);
        var (ids, mask, types) = (new long[batch * length], new long[batch * length], new long[batch * length]);
        for (var i = 0; i < batch; i++)
            for (var t = 0; t < tokenised[i].Length; t++)
                (ids[i * length + t], mask[i * length + t]) = (tokenised[i][t], 1);
        var n = 0;
        return (EncoderBenchmark.Measure(seconds, batch, () => set.Text.RunTensors(ids, mask, types, batch, length)),
            await EncoderBenchmark.MeasureConcurrent(seconds, batch, () => set.Text.EncodeAsync(texts[Interlocked.Increment(ref n) % texts.Length], default)));
    }

    /// <summary>Catalog-like texts from the drawings' own paths: folder words and file name words, 4–20 words.</summary>
    static string[] SampleTexts(string directory, int count) =>
        Directory.EnumerateFiles(directory, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(count)
            .Select(f => string.Join(' ', Path.GetRelativePath(directory, f)[..^4].Split('/', '_', '-', ' ').Where(w => w.Length > 1 && !w.All(char.IsDigit))))
            .Select(t => t.Length > 0 ? t : "drawing")
            .ToArray();

    static float Percentile(List<float> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Floor(p * (sorted.Length - 1))];
    }
}
