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
/// measures recall@10 of the running service's /similar against an exact scan, and the lists' freshness under upserts.
/// <see cref="SimilarRun"/> drives the load.
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
        // CASCADE: the tables that reference items (pictures, rules) go too; the neighbour lists and their queue are of
        // the old rows (TRUNCATE fires no row trigger), and the COPY below queues every new item afresh.
        await using (var drop = new NpgsqlCommand("""
            TRUNCATE items, similar_lists, similar_list_queue CASCADE;
            DO $$ DECLARE index regclass; BEGIN
                FOR index IN SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'items'::regclass AND indexrelid::regclass::text LIKE 'items_%hnsw%' LOOP
                    EXECUTE 'DROP INDEX ' || index;
                END LOOP;
            END $$
            """, connection))
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

    /// <summary>
    /// Recall@10 of the service's /similar against an exact scan of the same table, over random query items; with
    /// <c>--source</c>, every answer must say it came from that path (<c>precomputed</c>: the item's neighbour list, or
    /// <c>live</c>), else the command fails. With <c>--lists N</c>, also each query item's stored list against the exact top N.
    /// Prints the recall@10, then (with --lists) the lists' recall@N.
    /// </summary>
    public static async Task<int> RecallAsync(BenchArgs args)
    {
        var recall = await MeasureRecallAsync(args.Get("connection"), new Uri(args.Get("url")), args.GetInt("items", 100_000),
            args.GetInt("queries", 200), args.Get("source", ""), args.GetInt("lists", 0));
        if (recall.WrongSource is { } wrong)
        {
            Console.Error.WriteLine(wrong);
            return 1;
        }
        Console.WriteLine(Stats.F(recall.At10, "F4"));
        if (recall.Lists is { } lists)
            Console.WriteLine(Stats.F(lists, "F4"));
        return 0;
    }

    /// <summary>Recall@10 of /similar; the lists' recall@N (with lists); or, when some answer came from another path than <c>source</c>, which.</summary>
    public sealed record Recall(double At10, double? Lists, string? WrongSource);

    public static async Task<Recall> MeasureRecallAsync(string connection, Uri url, int items, int queries, string source, int listSize)
    {
        using var http = new HttpClient { BaseAddress = url };
        var builder = new NpgsqlDataSourceBuilder(connection);
        builder.UseVector();
        await using var dataSource = builder.Build();
        // The exact reference: float32 cosine against every stored vector, computed here (an exact scan in SQL takes ~2 s a
        // query at 100 000 items, where the vectors are read out of TOAST each time).
        var skus = new List<string>();
        var vectors = new List<float[]>();
        await using (var all = dataSource.CreateCommand("SELECT sku, embedding FROM items"))
        {
            await using var reader = await all.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                skus.Add(reader.GetString(0));
                vectors.Add(reader.GetFieldValue<Vector>(1).ToArray());
            }
        }
        var positions = skus.Select((sku, i) => (sku, i)).ToDictionary(p => p.sku, p => p.i, StringComparer.Ordinal);
        var scores = new float[skus.Count];
        List<string> Exact(string sku, int n)
        {
            var query = vectors[positions[sku]];
            for (var i = 0; i < scores.Length; i++)
                scores[i] = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(query, vectors[i]);
            return [.. Enumerable.Range(0, skus.Count).Where(i => skus[i] != sku)
                .OrderByDescending(i => scores[i]).ThenBy(i => skus[i], StringComparer.Ordinal).Take(n).Select(i => skus[i])];
        }

        var random = new Random(7);
        double found = 0, listed = 0;
        var wrongSource = new List<string>();
        for (var q = 0; q < queries; q++)
        {
            var sku = Sku(random.Next(items));
            var answer = (await http.GetFromJsonAsync<SimilarApi.SimilarResponse>($"/similar/{sku}?k=10"))!;
            if (source.Length > 0 && answer.Source != source)
                wrongSource.Add($"{sku}: {answer.Source}");
            var truth = Exact(sku, Math.Max(10, listSize));
            found += answer.Results.Count(r => truth.Take(10).Contains(r.Sku));
            if (listSize > 0)
            {
                await using var list = dataSource.CreateCommand("SELECT neighbours FROM similar_lists WHERE sku = $1");
                list.Parameters.Add(new() { Value = sku });
                var neighbours = (string[]?)await list.ExecuteScalarAsync() ?? [];
                listed += neighbours.Take(listSize).Intersect(truth).Count();
            }
        }
        return new Recall(found / (queries * 10.0), listSize > 0 ? listed / ((double)queries * listSize) : null,
            wrongSource.Count > 0 ? $"{wrongSource.Count} of {queries} answers did not come from the {source} path: {string.Join(", ", wrongSource.Take(5))}" : null);
    }

    /// <summary>
    /// Freshness of the neighbour lists under a steady stream of upserts: <c>--rate</c> per second for <c>--seconds</c>, each
    /// a different random item whose picture and text vectors move by <c>--move</c> (as an edited product's would; the fused one is
    /// their normalised sum, as the seed made them), written by SQL — the items table's trigger queues a change whatever the
    /// writer, and the model would be the bottleneck on this machine. From each UPDATE's commit (its reply) to its queue row gone,
    /// which happens when the worker's round that applied the change to every list it affects commits; polled every 5 ms.
    /// Waits up to <c>--drain</c> seconds after the stream, then prints one line: upserts, the rate achieved, p50, p95 and p99
    /// (nearest rank; upserts not applied by then count as slower than all others), how many were applied.
    /// </summary>
    public static async Task<int> FreshnessAsync(BenchArgs args)
    {
        // --drain: how long after the stream the upserts may take to be applied before the figures are taken
        Console.WriteLine(await MeasureFreshnessAsync(args.Get("connection"), args.GetInt("items", 100_000), args.GetInt("rate", 20),
            args.GetInt("seconds", 60), args.GetInt("drain", 120), double.Parse(args.Get("move", "0.3"), CultureInfo.InvariantCulture)));
        return 0;
    }

    public static async Task<string> MeasureFreshnessAsync(string connection, int items, int rate, int seconds, int drain, double move)
    {
        var builder = new NpgsqlDataSourceBuilder(connection);
        builder.UseVector();
        await using var dataSource = builder.Build();
        int imageDimension, textDimension;
        await using (var dims = dataSource.CreateCommand("SELECT vector_dims(image_embedding), vector_dims(text_embedding) FROM items LIMIT 1"))
        {
            await using var reader = await dims.ExecuteReaderAsync();
            await reader.ReadAsync();
            (imageDimension, textDimension) = (reader.GetInt32(0), reader.GetInt32(1));
        }
        var random = new Random(2014);
        var order = Enumerable.Range(0, items).OrderBy(_ => random.Next()).Take(rate * seconds).ToArray();
        var committed = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        var freshness = new System.Collections.Concurrent.ConcurrentBag<double>();
        var watch = Stopwatch.StartNew();
        var streamEnded = new TaskCompletionSource<double>(); // the second the stream ended

        var poller = Task.Run(async () =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            while (!streamEnded.Task.IsCompleted || !committed.IsEmpty)
            {
                var pending = committed.Keys.ToArray();
                if (pending.Length > 0)
                {
                    await using var command = new NpgsqlCommand("SELECT sku FROM similar_list_queue WHERE sku = ANY($1)", connection);
                    command.Parameters.Add(new() { Value = pending });
                    var queued = new HashSet<string>();
                    await using (var reader = await command.ExecuteReaderAsync())
                        while (await reader.ReadAsync())
                            queued.Add(reader.GetString(0));
                    var now = watch.ElapsedTicks;
                    foreach (var sku in pending.Where(p => !queued.Contains(p)))
                        if (committed.TryRemove(sku, out var at))
                            freshness.Add((now - at) * 1000.0 / Stopwatch.Frequency);
                }
                if (streamEnded.Task.IsCompleted && watch.Elapsed.TotalSeconds > await streamEnded.Task + drain)
                    break;
                await Task.Delay(5);
            }
        });

        var writes = new List<Task>();
        for (var i = 0; i < order.Length; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate) - watch.Elapsed;
            if (due > TimeSpan.Zero)
                await Task.Delay(due);
            var (sku, seed) = (Sku(order[i]), i);
            writes.Add(Task.Run(async () =>
            {
                await using var update = dataSource.CreateCommand("""
                    WITH moved AS (SELECT sku, l2_normalize(image_embedding + $2) AS i, l2_normalize(text_embedding + $3) AS t FROM items WHERE sku = $1)
                    UPDATE items SET image_embedding = moved.i, text_embedding = moved.t, embedding = l2_normalize(moved.i + moved.t)
                    FROM moved WHERE items.sku = moved.sku
                    """);
                update.Parameters.Add(new() { Value = sku });
                update.Parameters.Add(new() { Value = new Vector(Noise(new Random(2 * seed), imageDimension, move)) });
                update.Parameters.Add(new() { Value = new Vector(Noise(new Random(2 * seed + 1), textDimension, move)) });
                await update.ExecuteNonQueryAsync();
                committed[sku] = watch.ElapsedTicks;
            }));
        }
        await Task.WhenAll(writes);
        var streamed = watch.Elapsed.TotalSeconds;
        streamEnded.SetResult(streamed);
        await poller;

        // Upserts still queued when the figures are taken count as slower than any applied one: a percentile that falls
        // among them is reported as more than the time they had waited.
        var applied = freshness.Order().ToArray();
        var unapplied = committed.Count;
        var waited = unapplied == 0 ? 0 : (watch.ElapsedTicks - committed.Values.Max()) * 1000.0 / Stopwatch.Frequency; // the newest one's wait
        var total = applied.Length + unapplied;
        string Percentile(double p)
        {
            var rank = Math.Max(1, (int)Math.Ceiling(p * total)); // nearest rank
            return rank <= applied.Length ? FormattableString.Invariant($"{applied[rank - 1]:F0} ms") : FormattableString.Invariant($"> {waited / 1000:F0} s (not applied yet)");
        }
        return FormattableString.Invariant($"{total} upserts in {streamed:F1} s ({total / streamed:F1}/s), vectors moved by {move} (cos ≈ {1 / Math.Sqrt(1 + move * move):F2}): ")
            + $"p50 {Percentile(0.50)}, p95 {Percentile(0.95)}, p99 {Percentile(0.99)}; "
            + (unapplied == 0 ? FormattableString.Invariant($"all {applied.Length} applied, max {applied[^1]:F0} ms") : FormattableString.Invariant($"{applied.Length} applied, {unapplied} still queued {drain} s after the stream ended"));
    }

    /// <summary>A random vector of length <paramref name="move"/>: added to a unit vector (nearly orthogonal to it) and normalised, it moves it to cos ≈ 1/√(1 + move²).</summary>
    static float[] Noise(Random random, int dimension, double move)
    {
        var v = Unit(Gaussian(random, dimension));
        return [.. v.Select(x => (float)move * x)];
    }
}
