extern alias cli;

using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelDeploy = cli::Similarity.Cli.ModelDeploy;

namespace Similarity.Bench;

/// <summary>
/// <c>bench models</c>: <c>--items</c> drawings imported with the trained set (models/clipart), then
/// <see cref="ModelsBenchmark"/>'s readers on GET /similar while the tiny set is deployed beside it, embeds the catalog,
/// is activated and rolled back. <c>--memory</c>: what two full-size sets cost the service in resident memory.
/// </summary>
public static class ModelsRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var o = BenchArgs.Parse(args, "models", "items", "readers", "seconds", "rate");
        var (items, readers, seconds, rate) = (o.GetInt("items", 2000), o.GetInt("readers", 4), o.GetInt("seconds", 20), o.GetInt("rate", 20));
        var place = new BenchPlace();
        var work = place.Work("bench-models");
        var store = Path.Combine(work, "model-sets");
        if (Directory.Exists(store))
            Directory.Delete(store, recursive: true);
        ImportBenchmark.WriteCatalog(BenchArgs.Of(("images", BenchPlace.Clipart), ("items", items), ("distinct", items), ("out", work)));
        const string db = "similarity_bench_models";
        await place.RecreateAsync(db);
        var cs = place.ConnectionString(db);
        await using var service = await ServiceProcess.StartAsync(place, cs, place.Manifest("clipart"), "http://127.0.0.1:18098", "bench-models-api.log",
            new Dictionary<string, string> { ["Similarity:Models:StorePath"] = store, ["Similarity:Models:EmbedItemsPerSecond"] = $"{rate}" });
        Console.Error.WriteLine($"importing {items} rows");
        await ImportJobs.RunAsync(service.Url, Path.Combine(work, "catalog.csv"), Path.Combine(work, "images.zip"));
        await place.ListsAppliedAsync(db, service);
        Console.Error.WriteLine($"readers for {seconds} s alone, then through deploy, embedding (at most {rate} items/s), switch and rollback");
        return await ModelsBenchmark.RunAsync(BenchArgs.Of(("url", service.Url), ("connection", cs), ("pid", service.Pid),
            ("candidate", Path.Combine(place.Root, "models", "tiny")), ("name", "tiny-candidate"), ("readers", readers), ("seconds", seconds)));
    }

    /// <summary>
    /// The service's resident memory with models/full live alone, then after a copy of it (its manifest's description
    /// changed: another fingerprint) is deployed beside it with the CLI's models deploy. No catalog needed.
    /// </summary>
    public static async Task<int> MemoryAsync()
    {
        var place = new BenchPlace();
        var work = Path.Combine(place.DataDir, "bench-models-memory");
        if (Directory.Exists(work))
            Directory.Delete(work, recursive: true);
        var copy = Path.Combine(place.Work("bench-models-memory"), "full-copy");
        var full = Path.Combine(place.Root, "models", "full");
        foreach (var file in Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(full, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(copy, "manifest.json")))!;
        manifest["description"] = $"{manifest["description"]?.GetValue<string>()} (copy for bench models --memory)";
        await File.WriteAllTextAsync(Path.Combine(copy, "manifest.json"), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        const string db = "similarity_bench_models_memory";
        await place.RecreateAsync(db);
        await using var service = await ServiceProcess.StartAsync(place, place.ConnectionString(db), place.Manifest("full"), "http://127.0.0.1:18099",
            "bench-models-memory-api.log", new Dictionary<string, string> { ["Similarity:Models:StorePath"] = Path.Combine(work, "model-sets") });
        var one = service.MemoryKib() / 1024;
        using var admin = ImportJobs.AdminClient(service.Url);
        var deployed = await ModelDeploy.PutAsync(admin, copy, "full-copy", CancellationToken.None);
        if (!deployed.Created)
            throw new InvalidOperationException($"PUT /models/full-copy answered {deployed.Status}: {deployed.Body}");
        var two = service.MemoryKib() / 1024;
        var sets = (await admin.GetFromJsonAsync<JsonElement>("/models")).GetProperty("models").EnumerateArray()
            .Select(m => $"{m.GetProperty("name").GetString()} {m.GetProperty("memoryBytes").GetInt64() / 1048576} MiB ({m.GetProperty("bundleBytes").GetInt64() / 1048576} MiB of files)");
        var files = Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Console.Write(new Markdown($"measure (models/full: {Stats.Mib(files)} of files)", "value")
            .Add("service resident memory, the set live alone", $"{one} MiB")
            .Add("the same, a second full-size set deployed beside it", $"{two} MiB")
            .Add("process growth at load (GET /models memoryBytes)", string.Join(" / ", sets)));
        return 0;
    }
}
