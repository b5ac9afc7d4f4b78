using System.Text.Json.Serialization;

namespace Similarity.Feedback;

/// <summary>
/// One side of an experiment: the /similar ranking parameters it sets over the request's own (null: the request's).
/// <c>blend</c> is the co-engagement weight of the blended /similar; <c>imageWeight</c>/<c>textWeight</c> re-rank like
/// the query parameters of that name; <c>diversity</c> is the MMR trade-off.
/// </summary>
public sealed record ExperimentSide(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Blend = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? ImageWeight = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TextWeight = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Diversity = null)
{
    /// <summary>The problems of this side, keyed by the field's JSON path under <paramref name="side"/> (none: it is valid).</summary>
    public Dictionary<string, string[]> Problems(string side)
    {
        var errors = new Dictionary<string, string[]>();
        void Range(string name, double? value, double max, string rule)
        {
            if (value is { } v && (!double.IsFinite(v) || v < 0 || v > max))
                errors[$"{side}.{name}"] = [$"{name} must be {rule}."];
        }
        Range("blend", Blend, 10, "between 0 (content only) and 10");
        Range("imageWeight", ImageWeight, 100, "between 0 and 100");
        Range("textWeight", TextWeight, 100, "between 0 and 100");
        Range("diversity", Diversity, 1, "between 0 (by score alone) and 1");
        if (errors.Count == 0 && (ImageWeight ?? 0) + (TextWeight ?? 0) == 0 && (ImageWeight is not null || TextWeight is not null))
            errors[$"{side}.imageWeight"] = ["imageWeight and textWeight cannot both be 0."];
        return errors;
    }
}

/// <summary>Whether an experiment still interleaves /similar answers.</summary>
public static class ExperimentStatus
{
    public const string Running = "running", Stopped = "stopped";
}

/// <summary>An experiment as stored: two sides, the share of /similar answers it interleaves, and its life.</summary>
public sealed record ExperimentDefinition(string Name, ExperimentSide Control, ExperimentSide Treatment, double Share, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset? StoppedAt);

/// <summary>
/// What the interleaved answers of an experiment earned: impressions served, clicks credited to each side, and the
/// impressions each side won (more credited clicks than the other; a tie or no click decides nothing).
/// </summary>
public sealed record ExperimentTally(long Impressions, long ClicksControl, long ClicksTreatment, long WinsControl, long WinsTreatment, long Ties);
