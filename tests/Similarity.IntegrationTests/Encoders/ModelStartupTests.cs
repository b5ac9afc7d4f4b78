using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Encoders;

/// <summary>A broken model set stops the start with a message naming the file; CUDA falls back to CPU.</summary>
public sealed class ModelStartupTests : IDisposable
{
    readonly string _models = Directory.CreateTempSubdirectory("similarity-models-").FullName;

    public ModelStartupTests()
    {
        foreach (var file in Directory.GetFiles(TestPaths.TinyModels))
            File.Copy(file, Path.Combine(_models, Path.GetFileName(file)));
    }

    public void Dispose() => Directory.Delete(_models, recursive: true);

    sealed class App(string manifest, string device = "cpu") : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
            [new("Similarity:Models:Manifest", manifest), new("Similarity:Inference:Device", device)];
    }

    static async Task<string> StartFails(string manifest)
    {
        await using var app = new App(manifest);
        await ((IAsyncLifetime)app).InitializeAsync();
        try
        {
            return app.StartFailure();
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    string Manifest => Path.Combine(_models, "manifest.json");

    [Fact]
    public async Task A_missing_model_file_stops_the_start_naming_the_file()
    {
        File.Delete(Path.Combine(_models, "text.onnx"));
        var error = await StartFails(Manifest);
        Assert.Contains("text.onnx", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_file_that_does_not_match_its_pinned_hash_stops_the_start()
    {
        await File.AppendAllTextAsync(Path.Combine(_models, "image.onnx"), "tampered");
        var error = await StartFails(Manifest);
        Assert.Contains("image.onnx", error, StringComparison.Ordinal);
        Assert.Contains("SHA-256", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_naming_a_wrong_output_stops_the_start_naming_it()
    {
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Manifest))!;
        manifest["image"]!["output"] = "logits";
        await File.WriteAllTextAsync(Manifest, manifest.ToJsonString());
        var error = await StartFails(Manifest);
        Assert.Contains("'logits'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_manifest_stops_the_start_naming_the_setting()
    {
        var error = await StartFails(Path.Combine(_models, "nope.json"));
        Assert.Contains("Similarity:Models:Manifest", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cuda_asked_for_on_the_cpu_package_falls_back_to_cpu_and_serves()
    {
        await using var app = new App(Manifest, device: "cuda");
        await ((IAsyncLifetime)app).InitializeAsync();
        try
        {
            var embedded = await app.CreateClient().EmbedAsync(text: "red shirt");
            Assert.Equal(app.Services.GetRequiredService<Similarity.Models.ModelSets>().Live.Pipeline.Fusion.Dimension, embedded.Fused.Length);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
