using System.Diagnostics;
using System.Globalization;

namespace Similarity.Bench;

/// <summary>
/// <c>bench isolation</c>'s flood in a process of its own, pinned by <c>taskset -c</c> to some CPUs: what /similar pays
/// for the service's encoder work when the flood's clients do not run on the cores /similar is served and measured on
/// (the "≤ 2× where the flood's clients run on other cores"). The child (<c>isolation-flood</c>) runs the same
/// <see cref="LoadLoop"/> as the in-process flood and prints its statuses, one <c>status count</c> a line.
/// </summary>
public static class IsolationFlood
{
    /// <summary>The child: <c>isolation-flood --url U --body FILE --clients N --seconds S</c>.</summary>
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var body = await File.ReadAllBytesAsync(args.Get("body"));
        var result = await LoadLoop.RunAsync(new Uri(args.Get("url")), IsolationRun.Post(body), args.GetInt("clients", 32),
            TimeSpan.FromSeconds(args.GetInt("seconds", 10)));
        foreach (var (status, count) in result.Statuses)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{status} {count}"));
        return 0;
    }

    /// <summary>The flood from a child process pinned to <paramref name="cpus"/>: its statuses (its latencies are not measured).</summary>
    public static async Task<LoadResult> PinnedAsync(string cpus, Uri target, string bodyPath, int clients, TimeSpan length)
    {
        var start = new ProcessStartInfo("taskset") { RedirectStandardOutput = true, ArgumentList = { "-c", cpus } };
        // Started as `dotnet Similarity.Bench.dll` (similarity.sh) or as the app host.
        var self = Environment.GetCommandLineArgs()[0];
        if (self.EndsWith(".dll", StringComparison.Ordinal))
            start.ArgumentList.Add(Environment.ProcessPath!);
        foreach (var argument in new[] { self, "isolation-flood", "--url", target.ToString(), "--body", bodyPath, "--clients", $"{clients}",
                     "--seconds", string.Create(CultureInfo.InvariantCulture, $"{(int)Math.Ceiling(length.TotalSeconds)}") })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("taskset did not start");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"bench isolation: the pinned flood (taskset -c {cpus}) exited with {process.ExitCode}");
        var statuses = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' '))
            .ToDictionary(f => int.Parse(f[0], CultureInfo.InvariantCulture), f => int.Parse(f[1], CultureInfo.InvariantCulture));
        return new LoadResult(length.TotalSeconds, [], statuses);
    }
}
