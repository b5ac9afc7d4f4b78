using System.Diagnostics;

namespace Similarity.Bench;

/// <summary>
/// <c>bench quality</c>: retrieval quality of the committed trained set on the test split, through the service's HTTP API
/// only. Each model set (trained, the same with mean fusion, the same towers untrained) gets a fresh database and
/// service; models/train/bench_quality.py prepares the split, imports and asks each service, and writes the table
/// (with TF-IDF as the lexical baseline). This class only provides the services between its steps.
/// <c>--split validation</c> instead makes hybrid retrieval's choices on the validation split (models/train/bench_hybrid.py);
/// <c>--texts</c> measures the test split's text queries alone;
/// <c>--sets clipart</c> measures the trained set alone (the other sets' rows do not depend on the lexical side);
/// <c>--models DIR</c> also measures the model set in DIR (a folder with its manifest.json, e.g. a bundle of
/// <c>models tune</c>) on the same split, as one more row of the same table.
/// </summary>
public static class QualityRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var o = BenchArgs.Parse(args, "quality", "split", "sets", "texts", "models");
        var place = new BenchPlace();
        if (o.Get("split", "test") == "validation")
            return await HybridAsync(place, "validation", "lists", "tune");
        if (o.Has("texts"))
            return await HybridAsync(place, "test", "texts");
        var work = Path.Combine(place.DataDir, "bench-quality");
        if (Directory.Exists(work))
            Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(Path.Combine(work, "sets"));
        await PythonAsync(place, null, "models/train/bench_quality.py", "prepare", "--work", work, "--clipart", "models/clipart");
        if (o.Get("sets", "untrained").Contains("untrained", StringComparison.Ordinal))
        {
            Console.Error.WriteLine("the untrained towers (same code and seed, no training step)");
            await PythonAsync(place, Path.Combine(work, "untrained.log"), "models/train/train.py", "--untrained", "--out", Path.Combine(work, "sets", "untrained"));
        }
        const string db = "similarity_bench_quality";
        var given = o.Has("models") ? Path.GetFullPath(o.Get("models", ""), place.Root) : null;
        if (given is not null && !File.Exists(Path.Combine(given, "manifest.json")))
            throw new ArgumentException($"bench quality: --models {given} holds no manifest.json.");
        var sets = o.Get("sets", "clipart,mean,untrained").Split(',').ToList();
        if (given is not null)
            sets.Add(GivenSet);
        foreach (var set in sets)
        {
            var manifest = set switch
            {
                "clipart" => place.Manifest("clipart"),
                GivenSet => Path.Combine(given!, "manifest.json"),
                _ => Path.Combine(work, "sets", set, "manifest.json"),
            };
            await place.RecreateAsync(db);
            // 100 candidates per result: /similar?k=10 re-weighted by image or text then ranks the whole test split. The bench
            // is one client asking for every drawing's text search: the per-client encoder limit (10/s) would refuse it.
            await using var service = await ServiceProcess.StartAsync(place, place.ConnectionString(db), manifest, "http://127.0.0.1:18094", $"bench-quality-{set}-api.log",
                new Dictionary<string, string>
                {
                    ["Similarity:Search:WeightedCandidatesPerResult"] = "100",
                    ["Similarity:RateLimits:PerClientBurst"] = "1000000",
                    ["Similarity:RateLimits:PerClientPerSecond"] = "1000000",
                });
            Console.Error.WriteLine($"measuring the {set} set");
            await PythonAsync(place, null, "models/train/bench_quality.py", "measure", "--work", work, "--set", set, "--url", service.Url.ToString().TrimEnd('/'));
        }
        await place.DropAsync(db);
        await PythonAsync(place, null, "models/train/bench_quality.py", "table", "--work", work);
        return 0;
    }

    /// <summary>The set name bench_quality.py gives the model set of <c>--models DIR</c> (its row names the set's own name).</summary>
    const string GivenSet = "given";

    /// <summary>models/train/bench_hybrid.py on <paramref name="split"/>: <paramref name="step"/> against a fresh service, then <paramref name="after"/> offline.</summary>
    static async Task<int> HybridAsync(BenchPlace place, string split, string step, string? after = null)
    {
        var work = Path.Combine(place.DataDir, "bench-hybrid-" + split);
        Directory.CreateDirectory(work);
        await PythonAsync(place, null, "models/train/bench_hybrid.py", "prepare", "--work", work, "--split", split);
        const string db = "similarity_bench_hybrid";
        await place.RecreateAsync(db);
        await using (var service = await ServiceProcess.StartAsync(place, place.ConnectionString(db), place.Manifest("clipart"), "http://127.0.0.1:18096",
            "bench-hybrid-api.log", new Dictionary<string, string>
            {
                ["Similarity:RateLimits:PerClientBurst"] = "1000000",
                ["Similarity:RateLimits:PerClientPerSecond"] = "1000000",
            }))
            // The database by the environment, not the command line: its password stays out of the process list.
            await PythonAsync(place, null, new Dictionary<string, string> { ["ConnectionStrings__Similarity"] = place.ConnectionString(db) },
                "models/train/bench_hybrid.py", step, "--work", work, "--split", split, "--url", service.Url.ToString().TrimEnd('/'));
        await place.DropAsync(db);
        if (after is not null)
            await PythonAsync(place, null, "models/train/bench_hybrid.py", after, "--work", work);
        return 0;
    }

    /// <summary>Debian's Python on a script of the checkout; its output goes to ours, or to <paramref name="log"/>.</summary>
    internal static Task PythonAsync(BenchPlace place, string? log, params string[] args) => PythonAsync(place, log, new Dictionary<string, string>(), args);

    /// <summary>As above, with <paramref name="environment"/> added to the script's.</summary>
    internal static async Task PythonAsync(BenchPlace place, string? log, Dictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", args) { WorkingDirectory = place.Root, RedirectStandardOutput = log is not null, RedirectStandardError = log is not null };
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        using var python = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        if (log is not null)
        {
            var (stdout, stderr) = (python.StandardOutput.ReadToEndAsync(), python.StandardError.ReadToEndAsync());
            await File.WriteAllTextAsync(log, await stdout + await stderr);
        }
        await python.WaitForExitAsync();
        if (python.ExitCode != 0)
            throw new InvalidOperationException($"python3 {string.Join(' ', args)} exited {python.ExitCode}{(log is null ? "" : $" (its log: {log})")}");
    }
}
