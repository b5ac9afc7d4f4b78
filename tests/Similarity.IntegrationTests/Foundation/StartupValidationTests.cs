using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Foundation;

public sealed class StartupValidationTests
{
    sealed class ShortAdminKeyApp : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:AdminApiKey", "short")];
    }

    sealed class NoSpoolApp : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Imports:SpoolPath", "")];
    }

    [Fact]
    public async Task Without_a_spool_path_the_start_fails_naming_the_key_instead_of_spooling_to_a_temp_folder()
    {
        await using var app = new NoSpoolApp();
        await ((IAsyncLifetime)app).InitializeAsync();
        try
        {
            Assert.Contains("Similarity:Imports:SpoolPath is not set", app.StartFailure(), StringComparison.Ordinal);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
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
