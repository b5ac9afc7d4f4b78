using System.Globalization;

namespace Similarity.Bench;

/// <summary>
/// How long reads waited for a standby to replay their consistency token, from the services' own histogram at
/// <c>/metrics</c> (Prometheus text: cumulative <c>_bucket</c> counts by <c>le</c>, summed over outcomes and instances).
/// A percentile is reported as the bucket bound it falls under.
/// </summary>
public sealed record ConsistencyWaits(long Count, long LeftOut, double P50Bound, double P99Bound)
{
    const string Metric = "similarity_database_consistency_wait";

    public static async Task<ConsistencyWaits> ReadAsync(IEnumerable<Uri> instances)
    {
        var buckets = new SortedDictionary<double, long>();
        long leftOut = 0;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var url in instances)
            foreach (var line in (await http.GetStringAsync(new Uri(url, "/metrics"))).Split('\n'))
            {
                if (!line.StartsWith(Metric, StringComparison.Ordinal) || !line.Contains("_bucket{", StringComparison.Ordinal))
                    continue;
                var le = Label(line, "le");
                var count = long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
                var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                buckets[bound] = buckets.GetValueOrDefault(bound) + count;
                if (bound == double.PositiveInfinity && Label(line, "outcome") == "leftOut")
                    leftOut += count;
            }
        var total = buckets.Count == 0 ? 0 : buckets[double.PositiveInfinity];
        return new ConsistencyWaits(total, leftOut, Percentile(buckets, total, 0.50), Percentile(buckets, total, 0.99));
    }

    static string Label(string line, string name)
    {
        var start = line.IndexOf(name + "=\"", StringComparison.Ordinal) + name.Length + 2;
        return line[start..line.IndexOf('"', start)];
    }

    static double Percentile(SortedDictionary<double, long> cumulative, long total, double share) =>
        total == 0 ? double.NaN : cumulative.First(b => b.Value >= share * total).Key;

    public override string ToString() => Count == 0
        ? "no read waited (no token reached a standby read)"
        : $"{Count} reads waited; p50 ≤ {Ms(P50Bound)}, p99 ≤ {Ms(P99Bound)} (bucket bounds); {LeftOut} left a standby out after the bound and read the primary";

    static string Ms(double seconds) => double.IsPositiveInfinity(seconds) ? "over 1 s" : $"{seconds * 1000:F0} ms";
}
