using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Similarity.Encoders;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Encoders;

public sealed class EmbedApiTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    EmbeddingPipeline Pipeline => app.Services.GetRequiredService<Similarity.Models.ModelSets>().Live.Pipeline;

    [Fact]
    public async Task An_image_embedded_alone_and_inside_a_batch_of_32_gives_the_same_vector()
    {
        var images = Enumerable.Range(0, 32).Select(i => TestImages.Noise(300 + i, 280, seed: i, ".jpg")).ToArray();
        var alone = Pipeline.Image.RunBatch([images[17]])[0].Value!;
        var batched = Pipeline.Image.RunBatch(images)[17].Value!;
        AssertClose(alone, batched, 1e-5f);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)] // over 32, the batch is split into runs of similar length
    public async Task A_text_embedded_alone_and_inside_a_padded_batch_gives_the_same_vector(int batch)
    {
        var texts = Enumerable.Range(0, batch).Select(i => Pipeline.Text.Preprocessor.Encode(
            string.Join(' ', Enumerable.Repeat("red cotton shirt", 1 + i % 7)) + $" size {i}")).ToArray();
        var batched = Pipeline.Text.RunBatch(texts);
        Assert.True(texts.Max(t => t.Length) > texts[3].Length, "the batch must pad item 3");
        foreach (var i in new[] { 0, 3, batch - 1 })
            AssertClose(Pipeline.Text.RunBatch([texts[i]])[0].Value!, batched[i].Value!, 1e-5f);
    }

    [Fact]
    public async Task Sixty_four_parallel_calls_are_all_answered_correctly()
    {
        var client = app.CreateClient();
        var inputs = Enumerable.Range(0, 64).Select(i => (
            Image: i % 2 == 0 ? TestImages.Noise(240, 240, seed: 100 + i) : null,
            Text: i % 6 == 0 ? null : $"item {i} blue wool jacket")).ToArray();
        var expected = new List<float[]>();
        foreach (var (image, text) in inputs)
            expected.Add((await Pipeline.EmbedAsync(image, text, default)).Fusion.Fused);

        var batchSizes = new List<int>();
        Pipeline.Image.ModelRan += Record;
        try
        {
            var answers = await Task.WhenAll(inputs.Select(input => client.EmbedAsync(input.Image, input.Text)));
            for (var i = 0; i < inputs.Length; i++)
                AssertClose(expected[i], answers[i].Fused, 1e-5f);
        }
        finally
        {
            Pipeline.Image.ModelRan -= Record;
        }
        Assert.Equal(32, batchSizes.Sum());
        void Record(ModelRun run)
        {
            lock (batchSizes)
                batchSizes.Add(run.Size);
        }
    }

    [Theory]
    [InlineData(".jpg")]
    [InlineData(".png")]
    [InlineData(".webp")]
    [InlineData(".gif")]
    public async Task Every_supported_format_is_embedded(string suffix)
    {
        var embedded = await app.CreateClient().EmbedAsync(TestImages.Noise(320, 240, seed: 5, suffix));
        Assert.Equal(Pipeline.Image.Dimension, embedded.Image!.Length);
        Assert.Null(embedded.Text);
        Assert.Equal(1f, embedded.Attention.Image);
        Assert.Equal(Pipeline.Fingerprint, embedded.Fingerprint);
    }

    [Fact]
    public async Task Text_only_is_a_missing_image_not_an_error()
    {
        var embedded = await app.CreateClient().EmbedAsync(text: "红色 衬衫");
        Assert.Null(embedded.Image);
        Assert.Equal(1f, embedded.Attention.Text);
        Assert.Equal(Pipeline.Fusion.Dimension, embedded.Fused.Length);
    }

    public static TheoryData<string, byte[]?, string?, string, int> BadInputs => new()
    {
        { "truncated JPEG", TestImages.TruncatedJpeg(), null, "photo.jpg", 400 },
        { "PNG declaring 50 000 × 50 000", TestImages.PngDeclaring(50_000, 50_000), null, "huge.png", 413 },
        { "text file named .jpg", "just some words, not a picture"u8.ToArray(), null, "fake.jpg", 415 },
        { "empty image and no text", [], null, "empty.png", 400 },
        { "blank text only", null, "   ", "", 400 },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_a_problem_details_naming_the_field_and_the_service_stays_healthy(string because, byte[]? image, string? text, string fileName, int status)
    {
        var client = app.CreateClient();
        var response = await client.PostAsync("/embed", EmbedClient.Form(image, text, fileName));

        Assert.True(status == (int)response.StatusCode, $"{because}: expected {status}, got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(problem.GetProperty("errors").TryGetProperty("image", out _), because);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task An_empty_body_is_a_400_problem()
    {
        var response = await app.CreateClient().PostAsync("/embed", new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_bomb_is_refused_before_decoding()
    {
        // 50 000² RGB would need 7.5 GB; refusing it from the header must not come near that.
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var response = await app.CreateClient().PostAsync("/embed", EmbedClient.Form(TestImages.PngDeclaring(50_000, 50_000)));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.True(allocated < 64 * 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public async Task The_16_bit_png_bomb_is_refused_from_its_header_without_a_decode()
    {
        var bomb = TestImages.SixteenBitPngBomb;
        using (var header = NetVips.Image.NewFromBuffer(bomb))
        {
            Assert.Equal((6324, 6324, 4, NetVips.Enums.BandFormat.Ushort, 1),
                (header.Width, header.Height, header.Bands, header.Format, (int)header.Get("interlaced")));
        }
        var decodes = Pipeline.Image.Preprocessor.DecodeSlots.GetStatistics()!.TotalSuccessfulLeases;

        // Eight senders at once, as in the issue.
        var client = app.CreateClient();
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.PostAsync("/embed", EmbedClient.Form(bomb, fileName: "bomb.png"))));

        foreach (var answer in answers)
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, answer.StatusCode);
            var problem = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
            var reason = problem.GetProperty("errors").GetProperty("image")[0].GetString();
            Assert.Contains("MaxDecodedBytes", reason, StringComparison.Ordinal);
            Assert.Contains($"{6324L * 6324 * 4 * 2} bytes", reason, StringComparison.Ordinal); // width × height × bands × 2 bytes
        }
        Assert.Equal(decodes, Pipeline.Image.Preprocessor.DecodeSlots.GetStatistics()!.TotalSuccessfulLeases);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Ready_reports_the_models()
    {
        var ready = JsonDocument.Parse(await app.CreateClient().GetStringAsync("/health/ready")).RootElement;
        var models = ready.GetProperty("entries").GetProperty("models");
        Assert.Equal("Healthy", models.GetProperty("status").GetString());
        Assert.Equal(Pipeline.Fingerprint, models.GetProperty("data").GetProperty("fingerprint").GetString());
    }

    static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => MathF.Abs(e - a)).Max();
        Assert.True(worst <= tolerance, $"largest difference {worst:E2} > {tolerance:E0}");
    }
}
