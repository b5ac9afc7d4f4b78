using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Similarity.Encoders;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Encoders;

/// <summary>
/// The service's vectors against models/reference.py: an independent numpy forward pass, tokenizer,
/// preprocessing and fusion. A channel-order, layout, normalisation or token-id mistake breaks these.
/// </summary>
public sealed class GoldenVectorTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    const float Tolerance = 1e-4f;

    static readonly JsonElement Golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.TinyModels, "golden.json"))).RootElement;

    static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    [Fact]
    public async Task Image_text_and_fused_vectors_match_the_reference()
    {
        var image = await File.ReadAllBytesAsync(Path.Combine(TestPaths.TinyModels, "golden.png"));
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
        var pipeline = app.Services.GetRequiredService<EmbeddingPipeline>();
        foreach (var golden in Golden.GetProperty("texts").EnumerateArray())
        {
            var text = golden.GetProperty("text").GetString()!;
            var expectedIds = golden.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(expectedIds, pipeline.Text.Preprocessor.Encode(text));
            AssertClose(Floats(golden.GetProperty("embedding")), await pipeline.Text.EncodeAsync(text, default));
        }
    }

    static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => MathF.Abs(e - a)).Max();
        Assert.True(worst <= Tolerance, $"largest difference {worst:E2} > {Tolerance:E0}");
    }
}
