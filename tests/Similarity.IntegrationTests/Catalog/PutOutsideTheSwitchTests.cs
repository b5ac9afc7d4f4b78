using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Models;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>
/// A class of its own: it holds the model switch's write lock, as an activation does, which every other request of
/// its service would wait for.
/// </summary>
public sealed class PutOutsideTheSwitchTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task A_put_decodes_its_picture_before_it_waits_for_the_model_switch()
    {
        var admin = app.CreateAdminClient();
        var models = app.Services.GetRequiredService<ModelSets>();
        var slots = models.Live.Pipeline.Image.Preprocessor.DecodeSlots;
        var before = slots.GetStatistics()!.TotalSuccessfulLeases;
        Task<HttpResponseMessage> put;
        using (await models.WriteLockAsync(CancellationToken.None))
        {
            // Both decodes (the encoder's input and the stored copies) happen before the PUT needs the switch: queued
            // decodes never keep an activation, and every request behind it, waiting.
            put = admin.PutAsync("/items/lock-1", CatalogClient.Form(new TestItem("lock-1", "Red lamp", Image: TestImages.Noise(300, 200, seed: 7))));
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (slots.GetStatistics()!.TotalSuccessfulLeases < before + 2)
            {
                Assert.False(put.IsCompleted, "the PUT ended while the switch was held");
                Assert.True(DateTime.UtcNow < deadline, "the PUT's two decodes did not happen while the switch was held");
                await Task.Delay(20);
            }
            Assert.False(put.IsCompleted, "a PUT writes under the switch's read side, so it waits for the held write side");
        }
        Assert.Equal(HttpStatusCode.Created, (await put).StatusCode);
    }
}
