using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Similarity.Similar;

namespace Similarity.Bench;

/// <summary>
/// The two database-side paths of <c>bench similar</c>, each driven by <c>clients</c> loops for a number of seconds:
/// the plain pgvector query (the baseline, written here on purpose: it is what the service is compared against), and
/// the service's own search — its <see cref="SimilarSearch"/> as the service composes it, hosted in-process, with no
/// HTTP in front — on the live path (no neighbour lists).
/// </summary>
public sealed class SimilarPaths : IAsyncDisposable
{
    readonly WebApplicationFactory<Program> _service;
    readonly string _connectionString;
    readonly int _items, _dimension;

    SimilarPaths(WebApplicationFactory<Program> service, string connectionString, int items, int dimension) =>
        (_service, _connectionString, _items, _dimension) = (service, connectionString, items, dimension);

    public static async Task<SimilarPaths> StartAsync(BenchPlace place, string connectionString, string manifest, int items, int dimension)
    {
        var service = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseContentRoot(Path.Combine(place.Root, "src", "Similarity.Api"));
            web.UseSetting("ConnectionStrings:Similarity", connectionString);
            web.UseSetting("Similarity:Models:Manifest", manifest);
            web.UseSetting("Similarity:AdminApiKey", BenchPlace.AdminKey);
            web.UseSetting("Similarity:Imports:SpoolPath", Path.Combine(place.DataDir, "bench-spool"));
            web.UseSetting("Similarity:Search:ListSize", "0");
            web.UseSetting("Logging:LogLevel:Default", "Warning");
            web.UseSetting("Logging:LogLevel:Similarity.Requests", "Warning");
        });
        using var http = service.CreateClient();
        var watch = Stopwatch.StartNew();
        while (!(await http.GetStringAsync("/health/ready")).StartsWith("{\"status\":\"Healthy\"", StringComparison.Ordinal))
        {
            if (watch.Elapsed > TimeSpan.FromMinutes(30))
                throw new TimeoutException("the in-process service was not healthy after 30 minutes");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        return new SimilarPaths(service, connectionString, items, dimension);
    }

    /// <summary>Searches per second of the service's <see cref="SimilarSearch"/> for GET /similar/{sku}?k=10, revision and item state included.</summary>
    public async Task<double> ServiceSearchesPerSecondAsync(int clients, TimeSpan duration)
    {
        var search = _service.Services.GetRequiredService<SimilarSearch>();
        var criteria = new SearchCriteria(10, null, new SearchFilter(null, null, null, null, null, []), null, null);
        return await LoopAsync(clients, duration, async (_, random) =>
        {
            var request = SearchRequest.ForItem(SimilarBenchmark.Sku(random.Next(_items)), criteria);
            await search.SearchAsync(request, withQueryItem: true, CancellationToken.None);
        });
    }

    /// <summary>
    /// Queries per second of the plainest pgvector query, prepared, with the same search settings as the service. The
    /// index is partial (WHERE vector_dims(embedding) = dimension, so a table may hold several model sets'
    /// dimensions): without its predicate the query cannot use it. The planner drops the predicate as implied by the index's.
    /// </summary>
    public async Task<double> PlainQueriesPerSecondAsync(int clients, TimeSpan duration)
    {
        var builder = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(_connectionString)
        {
            Options = "-c hnsw.ef_search=100 -c hnsw.iterative_scan=relaxed_order",
            MaxPoolSize = clients,
        }.ConnectionString);
        builder.UseVector();
        await using var dataSource = builder.Build();
        var sql = $"""
            SELECT sku FROM items WHERE sku <> $1 AND vector_dims(embedding) = {_dimension}
            ORDER BY embedding::halfvec({_dimension}) <=> (SELECT embedding::halfvec({_dimension}) FROM items WHERE sku = $1) LIMIT 10
            """;
        var connections = new NpgsqlConnection[clients];
        var commands = new NpgsqlCommand[clients];
        for (var c = 0; c < clients; c++)
        {
            connections[c] = await dataSource.OpenConnectionAsync();
            commands[c] = new NpgsqlCommand(sql, connections[c]) { Parameters = { new() { Value = "" } } };
            await commands[c].PrepareAsync();
        }
        try
        {
            // Each loop keeps its own connection and prepared statement, as a pgbench client does.
            return await LoopAsync(clients, duration, async (client, random) =>
            {
                var command = commands[client];
                command.Parameters[0].Value = SimilarBenchmark.Sku(random.Next(_items));
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    _ = reader.GetString(0);
                }
            });
        }
        finally
        {
            foreach (var (command, connection) in commands.Zip(connections))
            {
                await command.DisposeAsync();
                await connection.DisposeAsync();
            }
        }
    }

    static async Task<double> LoopAsync(int clients, TimeSpan duration, Func<int, Random, Task> once)
    {
        var done = 0L;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(42 + c);
            while (watch.Elapsed < duration)
            {
                await once(c, random);
                Interlocked.Increment(ref done);
            }
        })));
        return done / watch.Elapsed.TotalSeconds;
    }

    public async ValueTask DisposeAsync() => await _service.DisposeAsync();
}
