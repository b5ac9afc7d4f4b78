using System.Net;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Hosting;

public sealed class SwaggerSwitchTests
{
    sealed class SwaggerOffApp : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Swagger:Enabled", "false")];
    }

    [Fact]
    public async Task Swagger_can_be_switched_off()
    {
        await using var app = new SwaggerOffApp();
        await ((IAsyncLifetime)app).InitializeAsync();
        try
        {
            var client = app.CreateClient();
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/swagger/v1/swagger.json")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/swagger/index.html")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
