using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>The real service in-process, against its own real database. One per test class (IClassFixture).</summary>
public class SimilarityApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminKey = "integration-test-admin-key";

    public TestDatabase Database { get; private set; } = null!;

    /// <summary>What the service logged, including why a start failed.</summary>
    public CapturedLogs Logs { get; } = new();

    /// <summary>Extra settings a test class needs (limits, batch sizes), applied over the defaults.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> Settings => [];

    /// <summary>This app's own import spool folder, removed with it.</summary>
    public string SpoolPath { get; }

    public virtual async Task InitializeAsync() => Database ??= await TestDatabase.CreateAsync();

    /// <summary>Starts the service and waits until its vector index is valid (see <see cref="WaitForVectorIndexAsync"/>).</summary>
    public async Task StartAsync()
    {
        CreateClient();
        await WaitForVectorIndexAsync();
    }

    /// <summary>A second service over an existing database and spool, as after a restart.</summary>
    protected SimilarityApp(TestDatabase database, string spoolPath) => (Database, SpoolPath, _sharesState) = (database, spoolPath, true);

    public SimilarityApp() => SpoolPath = Directory.CreateTempSubdirectory("similarity-spool-").FullName;

    readonly bool _sharesState;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        builder.UseSetting("ConnectionStrings:Similarity", Database.ConnectionString);
        builder.UseSetting("Similarity:AdminApiKey", AdminKey);
        builder.UseSetting("Similarity:Models:Manifest", TestPaths.TinyManifest);
        builder.UseSetting("Similarity:Imports:SpoolPath", SpoolPath);
        builder.UseSetting("Similarity:Models:StorePath", Path.Combine(SpoolPath, "model-sets"));
        // Tests send from one address, faster and more at once than a client may: the limits are lifted here and
        // tested by the classes that set their own (RateLimitTests).
        builder.UseSetting("Similarity:RateLimits:PerClientBurst", "1000000");
        builder.UseSetting("Similarity:RateLimits:PerClientPerSecond", "1000000");
        builder.UseSetting("Similarity:RateLimits:PerKeyBurst", "1000000");
        builder.UseSetting("Similarity:RateLimits:PerKeyPerSecond", "1000000");
        builder.UseSetting("Similarity:RateLimits:EncoderConcurrency", "1000");
        builder.UseSetting("Similarity:RateLimits:EncoderQueue", "10000");
        foreach (var (key, value) in Settings)
            builder.UseSetting(key, value);
    }

    /// <summary>
    /// Starts the service expecting it to fail; returns the exception and what the host logged. Under load
    /// WebApplicationFactory sometimes surfaces a failed start as an ObjectDisposedException (its deferred host
    /// races the disposal), so the logged reason is where the message naming the cause is sure to be.
    /// </summary>
    public string StartFailure()
    {
        var error = Assert.ThrowsAny<Exception>(() => CreateClient());
        return error + "\n" + Logs.Problems;
    }

    /// <summary>
    /// Waits, polling /health/ready, until the vector index (built in the background after start) is valid.
    /// A test that changes the items table's definition (a trigger, a constraint) waits for it first: DDL on
    /// the table and CREATE INDEX CONCURRENTLY wait for each other, and PostgreSQL ends one as a deadlock.
    /// </summary>
    public async Task WaitForVectorIndexAsync(int timeoutSeconds = 60)
    {
        var client = CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (VectorIndexStatus(await client.GetStringAsync("/health/ready")) != "Healthy")
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the vector index was not valid after {timeoutSeconds} s");
            await Task.Delay(20);
        }
    }

    /// <summary>The vector index's entry in a /health/ready answer.</summary>
    public static string? VectorIndexStatus(string health) =>
        System.Text.Json.JsonElement.Parse(health).GetProperty("entries").GetProperty("vectorIndex").GetProperty("status").GetString();

    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        if (_sharesState)
            return;
        await Database.DisposeAsync();
        Directory.Delete(SpoolPath, recursive: true);
    }
}
