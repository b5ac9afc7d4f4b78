using Npgsql;

namespace Similarity.Bench;

/// <summary>
/// <c>bench pages</c>: the item page on a warmed service with <c>--items</c> drawings imported through the API with the
/// trained models (<see cref="PagesBenchmark"/> times it, once the neighbour lists have applied every imported row),
/// what the stored pictures cost, and the README's screenshot (docs/item-page.png).
/// </summary>
public static class PagesRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var o = BenchArgs.Parse(args, "pages", "items", "iterations");
        var (items, iterations) = (o.GetInt("items", 10_000), o.GetInt("iterations", 1000));
        var place = new BenchPlace();
        var work = place.Work("bench-pages");
        ImportBenchmark.WriteCatalog(BenchArgs.Of(("images", BenchPlace.Clipart), ("items", items), ("distinct", 2000), ("out", work)));
        const string db = "similarity_bench_pages";
        await place.RecreateAsync(db);
        await using var service = await ServiceProcess.StartAsync(place, place.ConnectionString(db), place.Manifest("clipart"), "http://127.0.0.1:18097", "bench-pages-api.log");
        Console.Error.WriteLine($"importing {items} rows");
        await ImportJobs.RunAsync(service.Url, Path.Combine(work, "catalog.csv"), Path.Combine(work, "images.zip"));
        var drain = await place.ListsAppliedAsync(db, service);
        Console.Error.WriteLine($"neighbour lists up to date {drain:F0} s after the import's end; item pages: 100 to warm up, then {iterations}");
        var times = await PagesBenchmark.MeasureAsync(service.Url, iterations, Path.Combine(place.Root, "docs", "item-page.png"));

        await using var connection = new NpgsqlConnection(place.ConnectionString(db));
        await connection.OpenAsync();
        await using var storage = new NpgsqlCommand("""
            SELECT count(*) AS pictures, avg(octet_length(full_jpeg))::float8 AS full_bytes, avg(octet_length(thumb_jpeg))::float8 AS thumb_bytes,
                   pg_total_relation_size('item_pictures') AS table_bytes
            FROM item_pictures
            """, connection);
        await using var reader = await storage.ExecuteReaderAsync();
        await reader.ReadAsync();
        var count = reader.GetInt64(reader.GetOrdinal("pictures"));
        var (fullBytes, thumbBytes) = (reader.GetDouble(reader.GetOrdinal("full_bytes")), reader.GetDouble(reader.GetOrdinal("thumb_bytes")));
        var tableBytes = reader.GetInt64(reader.GetOrdinal("table_bytes"));
        Console.Write(new Markdown("measure", "value")
            .Add("items (pictures kept)", $"{count}")
            .Add("item page + 12 thumbnails, p50", $"{Stats.F(times.P50)} ms")
            .Add("item page + 12 thumbnails, p95", $"**{Stats.F(times.P95)} ms**")
            .Add("item page + 12 thumbnails, p99", $"{Stats.F(times.P99)} ms")
            .Add("floor: GET /health/live alone, p95", $"{Stats.F(times.Floor, "F2")} ms")
            .Add("one thumbnail alone, p95", $"{Stats.F(times.Thumbnail, "F2")} ms")
            .Add("stored picture, mean: 640 px copy / 256 px thumbnail", $"{fullBytes:F0} / {thumbBytes:F0} bytes")
            .Add("item_pictures on disk, per 100 000 items", $"{Stats.F((double)tableBytes / count * 100_000 / 1073741824)} GiB")
            .Add("neighbour lists applied after the import's end", $"{drain:F0} s"));
        return 0;
    }
}
