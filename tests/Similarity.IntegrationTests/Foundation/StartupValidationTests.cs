using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Foundation;

public sealed class StartupValidationTests
{
    sealed class ShortAdminKeyApp : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:AdminApiKey", "short")];
    }

    [Fact]
    public async Task A_bad_setting_stops_the_start_naming_the_setting()
    {
        await using var app = new ShortAdminKeyApp();
        await ((IAsyncLifetime)app).InitializeAsync();
        try
        {
            Assert.Contains("Similarity:AdminApiKey", app.StartFailure(), StringComparison.Ordinal);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
