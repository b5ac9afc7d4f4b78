using Similarity.Feedback;

namespace Similarity.UnitTests.Feedback;

/// <summary>The win rate's Wilson interval against published values, the verdict's thresholds, and the share's hash.</summary>
public sealed class ExperimentWinRateTests
{
    [Theory]
    // Wilson 95% intervals as tabulated (e.g. Newcombe 1998, Table I: 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605).
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0, 0.1611)]
    public void The_interval_is_wilsons(long successes, long trials, double low, double high)
    {
        var interval = WinRate.Wilson(successes, trials)!;

        Assert.Equal(low, interval.Low, 4);
        Assert.Equal(high, interval.High, 4);
    }

    [Fact]
    public void Nothing_decided_has_no_rate_and_no_interval()
    {
        Assert.Null(WinRate.Of(0, 0));
        Assert.Null(WinRate.Wilson(0, 0));
        Assert.Equal(0.75, WinRate.Of(winsControl: 1, winsTreatment: 3));
    }

    [Theory]
    [InlineData(40, 60, 100, ExperimentVerdict.Treatment)] // 60/100: 0.502–0.691
    [InlineData(62, 38, 100, ExperimentVerdict.Control)]   // 38/100: 0.291–0.478
    [InlineData(50, 50, 100, ExperimentVerdict.Even)]
    [InlineData(55, 45, 100, ExperimentVerdict.Even)]      // 45/100: 0.356–0.548 holds 0.5
    [InlineData(0, 99, 100, ExperimentVerdict.Undecided)]  // one decided answer short
    public void The_verdict_waits_for_enough_decided_answers_then_asks_whether_the_interval_holds_one_half(
        long winsControl, long winsTreatment, int minDecided, string verdict) =>
        Assert.Equal(verdict, WinRate.Verdict(winsControl, winsTreatment, minDecided));

    [Fact]
    public void An_experiment_takes_about_its_share_of_units_always_the_same_ones_and_all_at_share_one()
    {
        var units = Enumerable.Range(0, 20_000).Select(i => $"visitor-{i}").ToList();

        var taken = units.Count(u => RunningExperiments.Takes("blend-test", u, 0.1));

        Assert.InRange(taken, 1_800, 2_200); // 2 000 ± 4.7 standard deviations
        Assert.Equal(taken, units.Count(u => RunningExperiments.Takes("blend-test", u, 0.1)));
        Assert.All(units, u => Assert.True(RunningExperiments.Takes("blend-test", u, 1.0)));
        // Another experiment's share is drawn independently: about a tenth of this one's units.
        Assert.InRange(units.Count(u => RunningExperiments.Takes("blend-test", u, 0.1) && RunningExperiments.Takes("other", u, 0.1)), 120, 290);
    }

    [Fact]
    public void A_side_names_the_field_at_fault_under_its_side()
    {
        Assert.Empty(new ExperimentSide(Blend: 0.3, Diversity: 0.2).Problems("treatment"));
        Assert.Equal(["treatment.blend"], new ExperimentSide(Blend: 11).Problems("treatment").Keys);
        Assert.Equal(["control.imageWeight"], new ExperimentSide(ImageWeight: 0, TextWeight: 0).Problems("control").Keys);
        Assert.Equal(["control.diversity"], new ExperimentSide(Diversity: double.NaN).Problems("control").Keys);
    }
}
