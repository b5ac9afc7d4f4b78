using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>The real service in-process, against its own real database. One per test class (IClassFixture).</summary>
public class SimilarityApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminKey = "integration-test-admin-key";

    public TestDatabase Database { get; private set; } = null!;

    /// <summary>Extra settings a test class needs (limits, batch sizes), applied over the defaults.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> Settings => [];

    public virtual async Task InitializeAsync() => Database = await TestDatabase.CreateAsync();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Similarity", Database.ConnectionString);
        builder.UseSetting("Similarity:AdminApiKey", AdminKey);
        builder.UseSetting("Similarity:Models:Manifest", TestPaths.TinyManifest);
        foreach (var (key, value) in Settings)
            builder.UseSetting(key, value);
    }

    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await Database.DisposeAsync();
    }
}
