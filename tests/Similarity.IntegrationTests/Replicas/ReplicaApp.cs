using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Replicas;

/// <summary>
/// The service over a primary and a hot standby of its own (<see cref="ReplicatedCluster"/>), configured with both
/// hosts as a formation's connection string lists them; the standbys are checked ten times a second and one a second
/// behind is left out, so tests see the rotation change quickly.
/// </summary>
public sealed class ReplicaApp : IAsyncLifetime
{
    public ReplicatedCluster Cluster { get; private set; } = null!;
    public TestDatabase Database { get; private set; } = null!;
    public SimilarityApp App { get; private set; } = null!;
    string _spool = "";

    sealed class Service(TestDatabase database, string spool, string connectionString) : SimilarityApp(database, spool)
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [
            new("ConnectionStrings:Similarity", connectionString),
            new("Similarity:Database:MaxStandbyLag", "00:00:01"),
            new("Similarity:Database:StandbyCheckPeriod", "00:00:00.100"),
        ];
    }

    public async Task InitializeAsync()
    {
        Cluster = await ReplicatedCluster.StartAsync();
        Database = await TestDatabase.CreateAsync(Cluster.PrimaryConnectionString);
        _spool = Directory.CreateTempSubdirectory("similarity-spool-").FullName;
        App = new Service(Database, _spool, Cluster.MultiHost(Database.Name));
        await App.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Database.DisposeAsync();
        await Cluster.DisposeAsync();
        Directory.Delete(_spool, recursive: true);
    }
}
