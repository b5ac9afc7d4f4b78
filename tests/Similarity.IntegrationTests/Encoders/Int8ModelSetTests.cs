using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Numerics.Tensors;
using System.Text.Json;
using Similarity.Encoders;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Encoders;

/// <summary>The committed INT8 set (models/clipart-int8, made by ./similarity.sh models quantize).</summary>
public sealed class ClipartInt8App() : ModelSetApp(TestPaths.Models("clipart-int8"));

/// <summary>
/// models/clipart-int8 starts the service (its manifest's SHA-256s checked) and its vectors match its golden.json,
/// pinned from the service's own pipeline when the set was made (an INT8 graph has no independent forward pass here;
/// integer kernels differ between CPUs, so another CPU may need the set's golden rewritten by models quantize).
/// </summary>
public sealed class ClipartInt8GoldenVectorTests(ClipartInt8App app) : GoldenVectorTests<ClipartInt8App>(app, TestPaths.Models("clipart-int8"));

/// <summary>
/// What quantisation lost, bounded: the INT8 set's vectors stay within cosine 0.99 of the FP32 set's torch golden
/// vectors for the same picture and texts; and its fingerprint is its own, so its vectors never mix with FP32 ones.
/// </summary>
public sealed class ClipartInt8Tests(ClipartInt8App app) : IClassFixture<ClipartInt8App>
{
    const float MinCosineToFp32 = 0.99f;

    static JsonElement Fp32Golden { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Models("clipart"), "golden.json"))).RootElement;

    static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    [Fact]
    public async Task Its_vectors_stay_within_cosine_0_99_of_the_fp32_sets_golden()
    {
        var image = await File.ReadAllBytesAsync(Path.Combine(TestPaths.Models("clipart"), "golden.png"));
        var texts = Fp32Golden.GetProperty("texts");

        var embedded = await app.CreateClient().EmbedAsync(image, texts[0].GetProperty("text").GetString());

        AssertCosine("image", Floats(Fp32Golden.GetProperty("image").GetProperty("embedding")), embedded.Image!);
        AssertCosine("fused", Floats(Fp32Golden.GetProperty("fusion").GetProperty("fused")), embedded.Fused);
        foreach (var text in texts.EnumerateArray())
        {
            var alone = await app.CreateClient().EmbedAsync(text: text.GetProperty("text").GetString());
            AssertCosine($"text '{text.GetProperty("text").GetString()}'", Floats(text.GetProperty("embedding")), alone.Text!);
        }
    }

    [Fact]
    public async Task Its_fingerprint_is_not_the_fp32_sets()
    {
        var embedded = await app.CreateClient().EmbedAsync(text: "a red apple");
        var fp32 = ModelManifest.Load(Path.Combine(TestPaths.Models("clipart"), "manifest.json"));
        Assert.Equal(ModelManifest.Load(Path.Combine(TestPaths.Models("clipart-int8"), "manifest.json")).Fingerprint, embedded.Fingerprint);
        Assert.NotEqual(fp32.Fingerprint, embedded.Fingerprint);
    }

    static void AssertCosine(string what, float[] fp32, float[] int8)
    {
        var cosine = TensorPrimitives.CosineSimilarity(fp32, int8);
        Assert.True(cosine >= MinCosineToFp32, $"{what}: cosine {cosine:F4} to the FP32 golden < {MinCosineToFp32}");
    }
}

/// <summary>The INT8 set deploys as a candidate through PUT /models/{name} like any bundle (its manifest checked there too).</summary>
public sealed class Int8DeployTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task The_int8_bundle_is_accepted_as_a_candidate()
    {
        var zip = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.zip");
        ZipFile.CreateFromDirectory(TestPaths.Models("clipart-int8"), zip);
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(zip));
        File.Delete(zip);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");

        var deployed = await app.CreateAdminClient().PutAsync("/models/clipart-int8", content);

        Assert.Equal(HttpStatusCode.Created, deployed.StatusCode);
        var candidate = await deployed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("candidate", candidate.GetProperty("status").GetString());
        Assert.Equal(256, candidate.GetProperty("imageDimension").GetInt32());
    }
}

/// <summary>
/// models/clipart-int8 is exactly what the command makes from models/clipart (quantize.py make, as
/// ./similarity.sh models quantize runs it, with the Release Bench the test run built): a change to the quantiser
/// that is not followed by a regenerated set fails here.
/// </summary>
public sealed class Int8ReproducibilityTests
{
    [Fact]
    public async Task The_committed_int8_set_is_what_models_quantize_writes()
    {
        var parent = Directory.CreateTempSubdirectory("similarity-quantize-").FullName;
        try
        {
            var made = Path.Combine(parent, "clipart-int8");
            using var python = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["models/quantize.py", "make", "models/clipart", made])
            { WorkingDirectory = TestPaths.Root, RedirectStandardError = true, RedirectStandardOutput = true })!;
            var errors = python.StandardError.ReadToEndAsync();
            await python.StandardOutput.ReadToEndAsync();
            await python.WaitForExitAsync();
            Assert.True(python.ExitCode == 0, await errors);

            var committed = TestPaths.Models("clipart-int8");
            Assert.Equal(Directory.GetFiles(committed).Select(Path.GetFileName).Order(), Directory.GetFiles(made).Select(Path.GetFileName).Order());
            foreach (var file in Directory.GetFiles(committed))
            {
                var (expected, actual) = (await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(Path.Combine(made, Path.GetFileName(file))));
                Assert.True(expected.SequenceEqual(actual), $"{Path.GetFileName(file)} differs from what models quantize writes: run ./similarity.sh models quantize models/clipart models/clipart-int8");
            }
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}
