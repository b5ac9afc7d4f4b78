namespace Similarity.Feedback;

/// <summary>The verdict of an experiment: which side wins, an even match, or too few decided impressions to say.</summary>
public static class ExperimentVerdict
{
    public const string Treatment = "treatment", Control = "control", Even = "even", Undecided = "undecided";
}

/// <summary>A proportion's 95% interval.</summary>
public sealed record Interval(double Low, double High);

/// <summary>
/// The treatment's win rate over the decided impressions, wins_B / (wins_A + wins_B), with its 95% Wilson score
/// interval (Wilson 1927), which stays inside [0, 1] and behaves at small counts where the normal approximation does not.
/// The verdict waits for <c>minDecided</c> decided impressions; then a side wins when the interval excludes 0.5.
/// </summary>
public static class WinRate
{
    const double Z = 1.959963984540054; // the standard normal's 97.5% quantile

    public static double? Of(long winsControl, long winsTreatment) =>
        winsControl + winsTreatment == 0 ? null : (double)winsTreatment / (winsControl + winsTreatment);

    public static Interval? Wilson(long successes, long trials)
    {
        if (trials <= 0)
            return null;
        double n = trials, p = successes / n, z2 = Z * Z;
        var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        var half = Z * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
        return new Interval(Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    public static string Verdict(long winsControl, long winsTreatment, int minDecided)
    {
        var decided = winsControl + winsTreatment;
        if (decided < minDecided || Wilson(winsTreatment, decided) is not { } interval)
            return ExperimentVerdict.Undecided;
        return interval.Low > 0.5 ? ExperimentVerdict.Treatment : interval.High < 0.5 ? ExperimentVerdict.Control : ExperimentVerdict.Even;
    }
}
