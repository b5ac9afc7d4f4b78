using System.ComponentModel.DataAnnotations;

namespace Similarity.Feedback;

/// <summary><c>Similarity:Feedback</c>: what the closed loop records, how long it keeps it, and how it learns from it.</summary>
public sealed class FeedbackOptions
{
    public const string Section = "Similarity:Feedback";

    /// <summary>Days the served lists are kept (whole day partitions are dropped after).</summary>
    [Range(1, 3650)] public int ServedRetentionDays { get; set; } = 30;

    /// <summary>Days the events are kept (whole day partitions are dropped after).</summary>
    [Range(1, 3650)] public int EventRetentionDays { get; set; } = 90;

    /// <summary>The share of served lists recorded (1: all; 0: none).</summary>
    [Range(0.0, 1.0)] public double ServedShare { get; set; } = 1.0;

    /// <summary>The share of /similar answers in which two adjacent results are swapped to estimate position bias.</summary>
    [Range(0.0, 1.0)] public double ExploreShare { get; set; } = 0.02;

    /// <summary>Events per minute above which a visitor is flagged as a likely bot (kept, counted, not learned from).</summary>
    [Range(1, 1_000_000)] public int BotEventsPerMinute { get; set; } = 120;

    /// <summary>How often the co-engagement and the position propensities are rebuilt.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")] public TimeSpan RebuildPeriod { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Events of one visitor less than this apart belong to one session.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")] public TimeSpan SessionGap { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Half-life of an event's weight in the co-engagement, in days.</summary>
    [Range(0.1, 3650)] public double HalfLifeDays { get; set; } = 30;

    /// <summary>Distinct visitors who engaged with both items before a pair counts.</summary>
    [Range(1, 1000)] public int MinCoVisitors { get; set; } = 3;

    /// <summary>Weights of the event types in the co-engagement.</summary>
    public EventWeights Weights { get; set; } = new();

    /// <summary>
    /// The default weight of co-engagement in /similar's score (the request's <c>blend</c> overrides it; 0 is content
    /// only). 5 with <see cref="Score"/> <see cref="CoEngagementScore.ConfidenceByMax"/>: an item's most co-engaged
    /// item gains 5, more than any cosine, so what shoppers engage with together leads the page and content fills the
    /// rest; chosen on a validation seed of <c>bench feedback --sweep</c> (docs/benchmarks.md). Items without
    /// events are unaffected whatever it is.
    /// </summary>
    [Range(0.0, 10.0)] public double Blend { get; set; } = 5;

    // Experiments

    /// <summary>Decided impressions (one side credited with more clicks) an experiment needs before its verdict is more than undecided.</summary>
    [Range(1, 1_000_000)] public int ExperimentMinDecided { get; set; } = 100;

    /// <summary>How long an instance serves from its memory of the running experiments before reading them again (its own changes apply at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")] public TimeSpan ExperimentRefresh { get; set; } = TimeSpan.FromSeconds(5);

    // Ingest: POST /events' own share of the service.

    /// <summary>Batches of events stored at once; more wait (see <see cref="EventsQueue"/>).</summary>
    [Range(1, 1000)] public int EventsConcurrency { get; set; } = 4;

    /// <summary>Batches of events waiting for <see cref="EventsConcurrency"/>; beyond them a batch is refused with 429.</summary>
    [Range(0, 100_000)] public int EventsQueue { get; set; } = 64;

    /// <summary>Days ahead of today whose partitions the partition duty creates.</summary>
    [Range(1, 60)] public int PartitionDaysAhead { get; set; } = 3;

    public sealed class EventWeights
    {
        [Range(0.0, 100.0)] public double View { get; set; } = 1;
        [Range(0.0, 100.0)] public double Click { get; set; } = 2;
        [Range(0.0, 100.0)] public double AddToCart { get; set; } = 3;
        [Range(0.0, 100.0)] public double Purchase { get; set; } = 4;
    }

    /// <summary>
    /// The most one event from a served list weighs once corrected for its position (1 / propensity, clipped here):
    /// rare low positions would otherwise make the co-engagement noisy.
    /// </summary>
    [Range(1.0, 1000.0)] public double MaxPositionWeight { get; set; } = 10;

    /// <summary>
    /// How a co-engaged pair's strength becomes the score /similar blends (<see cref="CoEngagementScore"/>). By default
    /// relative to the query item's best pair, so the blend means as much on a popular item's page (where every
    /// Jaccard is small) as on a rare one's; chosen with <see cref="Blend"/> on a validation seed.
    /// </summary>
    public CoEngagementScore Score { get; set; } = CoEngagementScore.ConfidenceByMax;

    /// <summary>
    /// How the position propensities are estimated from the swaps: <see cref="PropensityModel.PowerLaw"/> pools every
    /// pair's evidence into one exponent (deep positions have few swapped clicks of their own: chained one by one their
    /// errors multiply); <see cref="PropensityModel.Chain"/> multiplies each pair's ratio.
    /// </summary>
    public PropensityModel Propensities { get; set; } = PropensityModel.PowerLaw;
}

/// <summary>The estimators of <see cref="PropensityEstimator"/> that <c>Similarity:Feedback:Propensities</c> chooses.</summary>
public enum PropensityModel
{
    /// <summary>propensity(p) = p^−η, η fitted to all pairs (<see cref="PropensityEstimator.FitPowerLaw"/>).</summary>
    PowerLaw,

    /// <summary>Each adjacent pair's ratio chained from position 1 (<see cref="PropensityEstimator.Estimate"/>).</summary>
    Chain,
}

/// <summary>
/// The co-engagement score of a pair (sku, other), in [0, 1], from the pair's weight w, the two items' weights and the
/// query item's other pairs: what <c>Similarity:Feedback:Score</c> chooses.
/// </summary>
public enum CoEngagementScore
{
    /// <summary>Weighted Jaccard: w / (weight(sku) + weight(other) − w); small on the page of an item many visitors engage with.</summary>
    Jaccard,

    /// <summary>The Jaccard divided by the query item's largest: its most co-engaged item scores 1 on every page.</summary>
    JaccardByMax,

    /// <summary>w / weight(sku): the share of the query item's engagement that came with the other (SAR's confidence).</summary>
    Confidence,

    /// <summary>w divided by the query item's largest pair weight: the co-count relative to its best, popular others not discounted.</summary>
    ConfidenceByMax,
}
