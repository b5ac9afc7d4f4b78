using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Similarity.Database;
using Similarity.Encoders;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>
/// 240 items whose vectors the test writes by SQL (clustered like a catalog's, so lists overlap) and a few embedded by
/// the service, with neighbour lists of 20: fewer than the catalog, so changes move items into and out of lists. Tests
/// pause the list worker (<see cref="PauseWorkerAsync"/>) to read answers that must merge the queue with the lists.
/// </summary>
public sealed class FreshCatalog : SimilarityApp
{
    public const int Size = 20, Count = 240;
    public static readonly string[] Embedded = ["fr-hat-1", "fr-hat-2", "fr-hat-3", "fr-mug-1", "fr-mug-2", "fr-mug-3"];
    static readonly string[] Titles = ["red wool hat", "blue wool hat", "green wool hat", "white china mug", "black china mug", "tall china mug"];

    readonly Random _random = new(24);
    float[][] _centres = [];

    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Search:ListSize", Size.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    public static string SkuOf(int i) => $"fr-{i:D3}";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var manifest = ModelManifest.Load(TestPaths.TinyManifest);
        Fingerprint = manifest.Fingerprint;
        _centres = [.. Enumerable.Range(0, 12).Select(_ => RandomVectors.Unit(RandomVectors.Gaussian(_random, manifest.Fusion.Dimension)))];
        await using (var dataSource = NewDataSource())
        {
            await new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance).ApplyAsync(default);
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var writer = await connection.BeginBinaryImportAsync("""
                COPY items (sku, title, category, price, currency, available, text_sha256, fingerprint, embedding, image_weight, text_weight)
                FROM STDIN (FORMAT BINARY)
                """);
            for (var i = 0; i < Count; i++)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync(SkuOf(i));
                await writer.WriteAsync($"item {i}");
                await writer.WriteAsync(i % 2 == 0 ? "even" : "odd");
                await writer.WriteAsync(10m + i, NpgsqlDbType.Numeric);
                await writer.WriteAsync("EUR");
                await writer.WriteAsync(true);
                await writer.WriteAsync(BitConverter.GetBytes(i), NpgsqlDbType.Bytea);
                await writer.WriteAsync(Fingerprint);
                await writer.WriteAsync(new Vector(NearCentre(i % _centres.Length)));
                await writer.WriteAsync(0.5f);
                await writer.WriteAsync(0.5f);
            }
            await writer.CompleteAsync();
        }
        await StartAsync();
        var admin = CreateAdminClient();
        for (var i = 0; i < Embedded.Length; i++)
            await admin.PutItemAsync(new TestItem(Embedded[i], Titles[i], "embedded"));
        await ListsAppliedAsync();
    }

    public string Fingerprint { get; private set; } = "";

    /// <summary>A vector near one of the catalog's cluster centres.</summary>
    public float[] NearCentre(int centre)
    {
        lock (_random)
            return RandomVectors.Unit([.. _centres[centre].Zip(RandomVectors.Unit(RandomVectors.Gaussian(_random, _centres[centre].Length)), (c, n) => c + 0.6f * n)]);
    }

    /// <summary>A vector very near <paramref name="vector"/>: a new item that belongs at the top of its list.</summary>
    public float[] Beside(float[] vector)
    {
        lock (_random)
            return RandomVectors.Unit([.. vector.Zip(RandomVectors.Gaussian(_random, vector.Length), (v, n) => v + 0.01f * n)]);
    }

    public NpgsqlDataSource NewDataSource()
    {
        var builder = new NpgsqlDataSourceBuilder(Database.ConnectionString);
        builder.UseVector();
        return builder.Build();
    }

    /// <summary>
    /// Holds the lists' state row, which every round of the worker locks first: no round commits (on any instance) until
    /// the returned handle is disposed, so every change made meanwhile stays queued.
    /// </summary>
    public async Task<IAsyncDisposable> PauseWorkerAsync()
    {
        var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        var tx = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("SELECT revision FROM similar_lists_state FOR UPDATE", connection, tx))
            await command.ExecuteScalarAsync();
        return new Pause(connection, tx);
    }

    sealed class Pause(NpgsqlConnection connection, NpgsqlTransaction tx) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await tx.RollbackAsync();
            await connection.DisposeAsync();
        }
    }

    public Task ListsAppliedAsync() => NeighbourLists.AppliedAsync(Database);

    public Task<Dictionary<string, (string[] Neighbours, double[] Scores)>> ListsAsync() => NeighbourLists.ReadAsync(Database);
}
