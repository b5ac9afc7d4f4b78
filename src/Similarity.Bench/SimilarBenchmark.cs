using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Similarity.Database;
using Similarity.Similar;

namespace Similarity.Bench;

/// <summary>
/// The data side of <c>./similarity.sh bench similar</c>: seeds N items by binary COPY (no model run) and
/// measures recall@10 of the running service's /similar against an exact scan. The script drives the load.
/// </summary>
public static class SimilarBenchmark
{
    public static string Sku(int i) => $"b-{i:D6}";

    /// <summary>
    /// Clustered synthetic vectors: a catalog has groups of alike products, so each item is a unit vector near
    /// one of N/100 random centres (cos ≈ 0.7 to its centre), for the image, text and fused spaces alike.
    /// </summary>
    public static async Task<int> SeedAsync(BenchArgs args)
    {
        var items = args.GetInt("items", 100_000);
        // Stamped with the model set's own fingerprint and dimension, as if its encoders had made them.
        var manifest = Similarity.Encoders.ModelManifest.Load(args.Get("manifest"));
        var dimension = manifest.Fusion.Dimension;
        var fingerprint = manifest.Fingerprint;
        var builder = new NpgsqlDataSourceBuilder(args.Get("connection"));
        builder.UseVector();
        await using var dataSource = builder.Build();
        await new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance).ApplyAsync(default);

        await using (var existing = dataSource.CreateCommand("SELECT count(*), count(*) FILTER (WHERE fingerprint = $1) FROM items"))
        {
            existing.Parameters.Add(new() { Value = fingerprint });
            await using var reader = await existing.ExecuteReaderAsync();
            await reader.ReadAsync();
            if (reader.GetInt64(0) == items && reader.GetInt64(1) == items)
            {
                Console.Error.WriteLine($"{items} items already seeded");
                return 0;
            }
        }

        var watch = Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var drop = new NpgsqlCommand("TRUNCATE items; DROP INDEX IF EXISTS items_embedding_hnsw_" + dimension, connection))
            await drop.ExecuteNonQueryAsync();
        var random = new Random(20261123);
        var centres = Enumerable.Range(0, Math.Max(1, items / 100)).Select(_ => Unit(Gaussian(random, dimension))).ToArray();
        await using (var writer = await connection.BeginBinaryImportAsync("""
            COPY items (sku, title, category, brand, price, currency, available, text_sha256, fingerprint,
                        embedding, image_embedding, text_embedding, image_weight, text_weight) FROM STDIN (FORMAT BINARY)
            """))
        {
            for (var i = 0; i < items; i++)
            {
                var centre = centres[random.Next(centres.Length)];
                var image = Near(random, centre);
                var text = Near(random, centre);
                var fused = Unit([.. image.Zip(text, (a, b) => a + b)]);
                await writer.StartRowAsync();
                await writer.WriteAsync(Sku(i));
                await writer.WriteAsync($"synthetic item {i}");
                await writer.WriteAsync($"category-{i % 20}");
                await writer.WriteAsync($"brand-{i % 50}");
                await writer.WriteAsync(Math.Round((decimal)(random.NextDouble() * 300), 2), NpgsqlDbType.Numeric);
                await writer.WriteAsync("EUR");
                await writer.WriteAsync(i % 10 != 0);
                await writer.WriteAsync(BitConverter.GetBytes(i), NpgsqlDbType.Bytea);
                await writer.WriteAsync(fingerprint);
                await writer.WriteAsync(new Vector(fused));
                await writer.WriteAsync(new Vector(image));
                await writer.WriteAsync(new Vector(text));
                await writer.WriteAsync(0.5f);
                await writer.WriteAsync(0.5f);
            }
            await writer.CompleteAsync();
        }
        await using (var analyze = new NpgsqlCommand("ANALYZE items", connection) { CommandTimeout = 0 })
            await analyze.ExecuteNonQueryAsync();
        Console.Error.WriteLine($"seeded {items} items ({dimension}-d) by binary COPY in {watch.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    static float[] Gaussian(Random random, int dimension)
    {
        var v = new float[dimension];
        for (var i = 0; i < dimension; i++)
            v[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return v;
    }

    static float[] Near(Random random, float[] centre)
    {
        var noise = Unit(Gaussian(random, centre.Length));
        return Unit([.. centre.Zip(noise, (c, n) => c + n)]);
    }

    static float[] Unit(float[] v)
    {
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }

    /// <summary>Recall@10 of the service's /similar against an exact scan of the same table, over random query items.</summary>
    public static async Task<int> RecallAsync(BenchArgs args)
    {
        var queries = args.GetInt("queries", 200);
        var items = args.GetInt("items", 100_000);
        using var http = new HttpClient { BaseAddress = new Uri(args.Get("url")) };
        var builder = new NpgsqlDataSourceBuilder(args.Get("connection"));
        builder.UseVector();
        await using var dataSource = builder.Build();
        var random = new Random(7);
        double found = 0;
        for (var q = 0; q < queries; q++)
        {
            var sku = Sku(random.Next(items));
            var answer = (await http.GetFromJsonAsync<SimilarApi.SimilarResponse>($"/similar/{sku}?k=10"))!;
            await using var exact = dataSource.CreateCommand("""
                SELECT sku FROM items
                WHERE sku <> $1 ORDER BY embedding <=> (SELECT embedding FROM items WHERE sku = $1) LIMIT 10
                """);
            exact.Parameters.Add(new() { Value = sku });
            var truth = new HashSet<string>();
            await using (var reader = await exact.ExecuteReaderAsync())
                while (await reader.ReadAsync())
                    truth.Add(reader.GetString(0));
            found += answer.Results.Count(r => truth.Contains(r.Sku));
        }
        Console.WriteLine((found / (queries * 10.0)).ToString("F4", CultureInfo.InvariantCulture));
        return 0;
    }
}
