using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Foundation;

public sealed class StartupValidationTests
{
    sealed class BadSettingApp(string key, string value) : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new(key, value)];
    }

    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Similarity:AdminApiKey", "short", "Similarity:AdminApiKey" },
        // No spool means no default under /tmp either: the start fails instead.
        { "Similarity:Imports:SpoolPath", "", "Similarity:Imports:SpoolPath is not set" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_stops_the_start_naming_the_setting(string key, string value, string named)
    {
        await using var app = new BadSettingApp(key, value);
        await ((IAsyncLifetime)app).InitializeAsync();
        try
        {
            Assert.Contains(named, app.StartFailure(), StringComparison.Ordinal);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
