using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Similarity.Encoders;
using Similarity.Hosting;

namespace Similarity.Bench;

/// <summary>
/// The activation ranges models/quantize.py needs for a static INT8 image tower: the FP32 graph with its Conv
/// inputs and outputs exposed (quantize.py prepare writes it) run over the listed drawings through the service's
/// own preprocessing, and each exposed tensor's min and max written as JSON. Deterministic for the same files.
/// </summary>
public static class Int8Calibration
{
    const int Batch = 16;

    public static int Run(BenchArgs args)
    {
        var manifest = ModelManifest.Load(args.Get("manifest"));
        var files = File.ReadAllLines(args.Get("files")).Where(f => f.Length > 0).ToArray();
        using var preprocessor = new ImagePreprocessor(manifest.Image.Preprocessing, new InputLimits());
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(args.Get("model"), options);
        var names = session.OutputMetadata.Keys.ToArray();
        var ranges = names.ToDictionary(n => n, _ => (Min: float.PositiveInfinity, Max: float.NegativeInfinity));

        var length = preprocessor.TensorLength;
        var tensor = new float[Batch * length];
        var (count, items, skipped) = (0, 0, 0);
        foreach (var file in files)
        {
            try
            {
                preprocessor.Decode(File.ReadAllBytes(file), tensor.AsSpan(count * length, length), "image");
                count++;
            }
            catch (InputRejectedException ex)
            {
                skipped++;
                Console.Error.WriteLine($"skipped {file}: {ex.Message}");
            }
            if (count == Batch)
                (items, count) = (items + RunBatch(session, manifest.Image.Input, names, tensor, count, preprocessor.Crop, ranges), 0);
        }
        if (count > 0)
            items += RunBatch(session, manifest.Image.Input, names, tensor, count, preprocessor.Crop, ranges);

        var json = new Dictionary<string, object>
        {
            ["items"] = items,
            ["ranges"] = ranges.OrderBy(r => r.Key, StringComparer.Ordinal).ToDictionary(r => r.Key, r => new[] { r.Value.Min, r.Value.Max }),
        };
        File.WriteAllText(args.Get("out"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"calibrated {names.Length} tensors on {items} drawings ({skipped} skipped): {args.Get("out")}"));
        return 0;
    }

    static int RunBatch(InferenceSession session, string input, string[] names, float[] tensor, int count, int crop,
        Dictionary<string, (float Min, float Max)> ranges)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, tensor.AsMemory(0, count * 3 * crop * crop), [count, 3, crop, crop]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [input], [value], names);
        for (var i = 0; i < names.Length; i++)
        {
            var data = outputs[i].GetTensorDataAsSpan<float>();
            var (min, max) = ranges[names[i]];
            foreach (var x in data)
                (min, max) = (MathF.Min(min, x), MathF.Max(max, x));
            ranges[names[i]] = (min, max);
        }
        return count;
    }
}
