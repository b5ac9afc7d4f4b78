using System.Globalization;
using System.Text.RegularExpressions;

namespace Similarity.Bench;

/// <summary>
/// Where an import's time went, read from the service's <c>/metrics</c> after its job: the sum of each stage's
/// <c>similarity.import.stage.duration</c> (see the service's <c>ImportStageMetrics</c>), and the neighbour lists the
/// list worker computed meanwhile. The writer's stages (starved … checks) add up to the job's time; the preparing
/// stages (screen, source, decode, pictures) overlap with them.
/// </summary>
public static partial class ImportBreakdown
{
    static readonly string[] Order = ["screen", "source", "decode", "pictures", "starved", "encoder_wait", "embed", "write", "checks"];

    /// <summary>Seconds per stage, in the pipeline's order, and the lists computed (both paths), from the service's scrape.</summary>
    public static async Task<(IReadOnlyList<(string Stage, double Seconds)> Stages, double Lists)> ReadAsync(Uri service)
    {
        using var http = new HttpClient { BaseAddress = service };
        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var sums = new Dictionary<string, double>();
        var lists = 0.0;
        foreach (var line in text.Split('\n'))
        {
            if (StageSum().Match(line) is { Success: true } stage)
                sums[stage.Groups["stage"].Value] = sums.GetValueOrDefault(stage.Groups["stage"].Value) + Number(stage.Groups["value"].Value);
            else if (ListsComputed().Match(line) is { Success: true } computed)
                lists += Number(computed.Groups["value"].Value);
        }
        return ([.. Order.Where(sums.ContainsKey).Select(s => (s, sums[s]))], lists);
    }

    /// <summary>The breakdown as markdown rows: seconds, milliseconds per row, and share of the job's time.</summary>
    public static Markdown Table(IReadOnlyList<(string Stage, double Seconds)> stages, int rows, double rowsPerSecond)
    {
        var job = rows / rowsPerSecond;
        var table = new Markdown("stage", "seconds", "ms per row", "share of the job's time") { TextColumns = [0] };
        foreach (var (stage, seconds) in stages)
            table.Add(stage, Stats.F(seconds), Stats.F(1000 * seconds / rows), $"{100 * seconds / job:F0} %");
        return table;
    }

    static double Number(string value) => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);

    [GeneratedRegex("""^similarity_import_stage_duration_seconds_sum\{[^}]*stage="(?<stage>[a-z_]+)"[^}]*\} (?<value>\S+)""")]
    private static partial Regex StageSum();

    [GeneratedRegex("""^similarity_similar_lists_computed_total\{[^}]*\} (?<value>\S+)""")]
    private static partial Regex ListsComputed();
}
