using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Similarity.Encoders;

namespace Similarity.Bench;

/// <summary>
/// Pins an INT8 set's vectors: the source set's golden image and texts through the service's own pipeline on the
/// INT8 manifest, written in golden.json's shape. Unlike an FP32 set's golden (an independent forward pass), these
/// are the service's own answers on this machine: the tests keep them from drifting, and compare them with the
/// FP32 golden by cosine for the quantisation's loss.
/// </summary>
public static class Int8Golden
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var manifest = ModelManifest.Load(args.Get("manifest"));
        var like = JsonNode.Parse(await File.ReadAllTextAsync(args.Get("like")))!;
        await using var pipeline = EmbeddingPipeline.Create(manifest, new InferenceOptions(), new InputLimits(), NullLogger.Instance);
        var image = await File.ReadAllBytesAsync(args.Get("image"));
        var texts = like["texts"]!.AsArray().Select(t => t!["text"]!.GetValue<string>()).ToArray();

        var embedded = await pipeline.EmbedAsync(image, texts[0], default);
        var golden = new JsonObject
        {
            ["source"] = "Similarity.Bench golden-int8: the service's pipeline on this set (ONNX Runtime, CPU)",
            ["image"] = new JsonObject { ["file"] = Path.GetFileName(args.Get("image")), ["embedding"] = Array(embedded.Image!) },
            ["texts"] = new JsonArray(),
            ["fusion"] = new JsonObject
            {
                ["imageProjected"] = Array(embedded.Fusion.Image!),
                ["textProjected"] = Array(embedded.Fusion.Text!),
                ["weights"] = Array([embedded.Fusion.ImageWeight, embedded.Fusion.TextWeight]),
                ["fused"] = Array(embedded.Fusion.Fused),
            },
        };
        foreach (var text in texts)
            golden["texts"]!.AsArray().Add(new JsonObject
            {
                ["text"] = text,
                ["ids"] = new JsonArray(pipeline.Text.Preprocessor.Encode(text).Select(id => (JsonNode)id).ToArray()),
                ["embedding"] = Array(await pipeline.Text.EncodeAsync(text, default)),
            });
        await File.WriteAllTextAsync(args.Get("out"), golden.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    static JsonArray Array(float[] values) => new(values.Select(v => (JsonNode)(double)v).ToArray());
}
