using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Encoders;

/// <summary>
/// The service's vectors against a model set's golden.json, written by code independent of the service: for the
/// seeded tiny set, models/reference.py (a numpy forward pass, tokenizer, preprocessing and fusion); for trained
/// sets, torch's own forward pass at export (models/train/export.py). A channel-order, layout, normalisation,
/// token-id, pooling or fusion mistake breaks these. The golden image is already at the model's resize size, so
/// no resampler enters the comparison.
/// </summary>
public abstract class GoldenVectorTests<TApp>(TApp app, string models) : IClassFixture<TApp> where TApp : SimilarityApp
{
    const float Tolerance = 1e-4f;

    JsonElement Golden { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(models, "golden.json"))).RootElement;

    static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    [Fact]
    public async Task Image_text_and_fused_vectors_match_the_reference()
    {
        var image = await File.ReadAllBytesAsync(Path.Combine(models, "golden.png"));
        var text = Golden.GetProperty("texts")[0].GetProperty("text").GetString()!;

        var embedded = await app.CreateClient().EmbedAsync(image, text);

        AssertClose(Floats(Golden.GetProperty("image").GetProperty("embedding")), embedded.Image!);
        AssertClose(Floats(Golden.GetProperty("texts")[0].GetProperty("embedding")), embedded.Text!);
        var fusion = Golden.GetProperty("fusion");
        AssertClose(Floats(fusion.GetProperty("imageProjected")), embedded.ImageProjected!);
        AssertClose(Floats(fusion.GetProperty("textProjected")), embedded.TextProjected!);
        AssertClose(Floats(fusion.GetProperty("fused")), embedded.Fused);
        AssertClose(Floats(fusion.GetProperty("weights")), [embedded.Attention.Image, embedded.Attention.Text]);
    }

    [Fact]
    public async Task Every_reference_text_has_the_reference_token_ids_and_vector()
    {
        var pipeline = app.Services.GetRequiredService<Similarity.Models.ModelSets>().Live.Pipeline;
        foreach (var golden in Golden.GetProperty("texts").EnumerateArray())
        {
            var text = golden.GetProperty("text").GetString()!;
            var expectedIds = golden.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(expectedIds, pipeline.Text.Preprocessor.Encode(text));
            AssertClose(Floats(golden.GetProperty("embedding")), await pipeline.Text.EncodeAsync(text, default));
        }
    }

    internal static void AssertClose(float[] expected, float[] actual, float tolerance = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => MathF.Abs(e - a)).Max();
        Assert.True(worst <= tolerance, $"largest difference {worst:E2} > {tolerance:E0}");
    }
}

/// <summary>The seeded tiny set against models/reference.py.</summary>
public sealed class TinyGoldenVectorTests(SimilarityApp app) : GoldenVectorTests<SimilarityApp>(app, TestPaths.TinyModels);

/// <summary>The committed, trained default set (models/clipart) against torch's forward pass at its export.</summary>
public sealed class ClipartGoldenVectorTests(ModelSetApp.Clipart app) : GoldenVectorTests<ModelSetApp.Clipart>(app, TestPaths.Models("clipart"));

/// <summary>
/// The training code itself, on a handful of drawings (models/train/train.py --smoke, run by ./similarity.sh test):
/// its export loads in the service and matches torch's forward pass, and its loss fell.
/// </summary>
public sealed class TrainingSmokeTests(ModelSetApp.Smoke app) : GoldenVectorTests<ModelSetApp.Smoke>(app, TestPaths.Models("smoke"))
{
    [Fact]
    public void The_training_loss_falls()
    {
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Models("smoke"), "manifest.json"))).RootElement;
        var losses = manifest.GetProperty("training").GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.True(losses.Length >= 10, $"only {losses.Length} steps were logged");
        Assert.True(losses[^3..].Average() < 0.5 * losses[..3].Average(),
            $"the loss went from {losses[..3].Average():F3} to {losses[^3..].Average():F3}: it did not fall by half");
    }
}

/// <summary>
/// The real-export path: torchvision's genuine ResNet-50 (weights=None, seeded) exported by models/export_real.py
/// loads in the service, and its image vector matches torch's own forward pass.
/// </summary>
public sealed class RealExportTests(ModelSetApp.ResNet50 app) : IClassFixture<ModelSetApp.ResNet50>
{
    static readonly string Models = TestPaths.Models("resnet50-untrained");

    [Fact]
    public async Task Torchvision_resnet50_image_vectors_match_torch()
    {
        var golden = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Models, "golden.json"))).RootElement;
        var expected = golden.GetProperty("image").GetProperty("embedding").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

        var embedded = await app.CreateClient().EmbedAsync(await File.ReadAllBytesAsync(Path.Combine(Models, "golden.png")));

        Assert.Equal(2048, embedded.Image!.Length);
        GoldenVectorTests<SimilarityApp>.AssertClose(expected, embedded.Image);
    }
}
