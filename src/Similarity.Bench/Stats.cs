using System.Globalization;

namespace Similarity.Bench;

/// <summary>
/// The figures every benchmark summarises with: nearest-rank percentiles, the median round, a range and a ratio,
/// formatted with the invariant culture. Pure, so the unit tests reach it with hand-computed answers.
/// </summary>
public static class Stats
{
    /// <summary>Nearest rank: the smallest value with at least <paramref name="percentile"/>% of the values at or below it.</summary>
    public static double Percentile(IEnumerable<double> values, double percentile)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            throw new ArgumentException("No values.", nameof(values));
        var rank = Math.Max(1, (int)Math.Ceiling(percentile / 100 * sorted.Length));
        return sorted[Math.Min(sorted.Length, rank) - 1];
    }

    /// <summary>The middle value; of an even count, the lower middle one (as the rounds' median always was: a value measured, never an average).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            throw new ArgumentException("No values.", nameof(values));
        return sorted[(sorted.Length + 1) / 2 - 1];
    }

    /// <summary>"lowest–highest" of the values, each with <paramref name="format"/>.</summary>
    public static string Range(IEnumerable<double> values, string format = "F2")
    {
        var sorted = values.Order().ToArray();
        return $"{F(sorted[0], format)}–{F(sorted[^1], format)}";
    }

    /// <summary><paramref name="a"/> / <paramref name="b"/> with two decimals.</summary>
    public static string Ratio(double a, double b) => F(a / b, "F2");

    public static string F(double value, string format = "F1") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Mib(double bytes) => F(bytes / 1048576) + " MiB";
}
