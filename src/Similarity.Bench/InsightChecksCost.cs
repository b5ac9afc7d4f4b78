using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Similarity.Bench;

/// <summary>
/// What the catalog checks add to an import: the same catalog imported into a fresh database by a service with the
/// checks on and one with them off (<c>Similarity:Insight:ImportChecks</c>), alternately, twice each; and the checks'
/// own time from the service's log line. <see cref="AtScaleAsync"/> adds text-only rows to a large catalog with the
/// checks on and reads the checks' share of that import.
/// </summary>
public static partial class InsightChecksCost
{
    const string Url = "http://127.0.0.1:18096";

    public static async Task AddAsync(BenchPlace place, string catalog, string images, IReadOnlyDictionary<string, string> settings, Markdown table)
    {
        const string db = "similarity_bench_insight_cost";
        var row = await AlternateAsync(async on =>
        {
            await place.RecreateAsync(db);
            var log = $"bench-insight-cost-{(on ? "on" : "off")}.log";
            double took;
            await using (var service = await ServiceProcess.StartAsync(place, place.ConnectionString(db), place.Manifest("clipart"), Url, log, WithChecks(settings, on)))
            {
                var watch = Stopwatch.StartNew();
                await ImportJobs.RunAsync(service.Url, catalog, images);
                took = watch.Elapsed.TotalSeconds;
            }
            return (took, ChecksLine(Path.Combine(place.DataDir, log))?.Milliseconds);
        });
        await place.DropAsync(db);
        table.Add("import with the catalog checks on, then off (fresh database each, alternately)", row.Value, row.Note);
    }

    /// <summary>Imports <paramref name="rows"/> new text-only items into the running service's catalog and reads the checks' share of it.</summary>
    public static async Task AtScaleAsync(BenchPlace place, ServiceProcess service, string logName, int rows, Markdown table)
    {
        var (took, line) = await ImportRowsAsync(place, service, logName, "checks", rows);
        table.Add($"import of {rows} text-only rows into it, checks on", $"{took:F1} s",
            line is { } l ? string.Create(CultureInfo.InvariantCulture, $"the checks: {l.Milliseconds:F0} ms over {l.Items} items ({l.Milliseconds / 10 / took:F1} % of the import)")
                : "the checks' log line was not found");
    }

    /// <summary>
    /// Imports of <paramref name="rows"/> new text-only items into the large catalog, each by a fresh service with the
    /// checks on, then off, twice: what they add to an import at that size, with the service's default clustering
    /// (a few hundred new items bring no new clustering).
    /// </summary>
    public static async Task OnOffAtScaleAsync(BenchPlace place, string connectionString, string manifest, IReadOnlyDictionary<string, string> settings, int rows, Markdown table)
    {
        var round = 0;
        var row = await AlternateAsync(async on =>
        {
            var log = $"bench-insight-scale-{(on ? "on" : "off")}.log";
            await using var service = await ServiceProcess.StartAsync(place, connectionString, manifest, Url, log, WithChecks(settings, on));
            var (took, line) = await ImportRowsAsync(place, service, log, $"checks-{++round}", rows);
            return (took, line?.Milliseconds);
        });
        table.Add($"imports of {rows} text-only rows, checks on, then off (a fresh service each, alternately)", row.Value, row.Note);
    }

    static Dictionary<string, string> WithChecks(IReadOnlyDictionary<string, string> settings, bool on) =>
        new(settings) { ["Similarity:Insight:ImportChecks"] = on ? "true" : "false" };

    /// <summary>
    /// Four imports, the checks on, off, on, off (<paramref name="import"/> gives each one's seconds and, with the checks
    /// on, their own milliseconds from the log): the table's value (what the checks add) and note.
    /// </summary>
    static async Task<(string Value, string Note)> AlternateAsync(Func<bool, Task<(double Seconds, double? CheckMs)>> import)
    {
        var seconds = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        var checkMs = new List<double>();
        foreach (var on in new[] { true, false, true, false })
        {
            var (took, ms) = await import(on);
            seconds[on].Add(took);
            if (on && ms is { } m)
                checkMs.Add(m);
        }
        string Times(bool on) => string.Join(", ", seconds[on].Select(s => s.ToString("F1", CultureInfo.InvariantCulture) + " s"));
        return (string.Create(CultureInfo.InvariantCulture, $"{(seconds[true].Average() / seconds[false].Average() - 1) * 100:+0.0;-0.0} %"),
            $"on: {Times(true)}; off: {Times(false)}; the checks' own time (log): {string.Join(", ", checkMs.Select(m => m.ToString("F0", CultureInfo.InvariantCulture) + " ms"))}");
    }

    static async Task<(double Seconds, (int Items, double Milliseconds)? Checks)> ImportRowsAsync(BenchPlace place, ServiceProcess service, string logName, string prefix, int rows)
    {
        var csv = new StringBuilder("sku,title,description\n");
        for (var i = 0; i < rows; i++)
            csv.Append(CultureInfo.InvariantCulture, $"{prefix}-{i},Checked item {i} of the import,A plain description number {i % 50} for the import checks\n");
        var path = Path.Combine(place.Work("bench-insight"), "checks-rows.csv");
        await File.WriteAllTextAsync(path, csv.ToString());
        var watch = Stopwatch.StartNew();
        await ImportJobs.RunAsync(service.Url, path, null);
        return (watch.Elapsed.TotalSeconds, ChecksLine(Path.Combine(place.DataDir, logName)));
    }

    /// <summary>The last "catalog checks over" line of a service's log: items checked and milliseconds.</summary>
    public static (int Items, double Milliseconds)? ChecksLine(string log)
    {
        var line = File.ReadLines(log).LastOrDefault(l => l.Contains("catalog checks over", StringComparison.Ordinal));
        var match = line is null ? null : ChecksPattern().Match(line);
        return match is { Success: true }
            ? (int.Parse(match.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture),
               double.Parse(match.Groups[2].Value, NumberStyles.Number, CultureInfo.InvariantCulture))
            : null;
    }

    [GeneratedRegex(@"catalog checks over ([\d,]+) items in ([\d,.]+) ms")]
    private static partial Regex ChecksPattern();
}
