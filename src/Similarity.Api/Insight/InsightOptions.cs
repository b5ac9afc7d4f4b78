using System.ComponentModel.DataAnnotations;

namespace Similarity.Insight;

/// <summary><c>Similarity:Insight</c>: the thresholds of duplicates, mismatches and import checks, and the clustering duty's pace.</summary>
public sealed class InsightOptions
{
    public const string Section = "Similarity:Insight";

    /// <summary>The cosine over which two items are near-identical when the caller names none.</summary>
    [Range(0.5, 1.0)] public double DuplicateMinScore { get; set; } = 0.95;

    /// <summary>
    /// With <c>by=fused</c> (and in the import checks), the image cosine a pair also needs when both items have a picture:
    /// the fused score leans on the text, which drawings of one icon set share word for word. 0 turns the gate off.
    /// With the sketches' condition below it is a hedge (colour variants, which a grey sketch cannot tell apart) and a
    /// cheap first cut, no longer what separates copies from siblings. Chosen on one planted seed of <c>bench insight</c>.
    /// </summary>
    [Range(0.0, 1.0)] public double DuplicateMinImageScore { get; set; } = 0.9;

    /// <summary>
    /// With <c>by=fused</c> (and in the import checks), how well the sketches of a pair's pictures must match
    /// (<see cref="PictureSketch.Match"/>) when both items have one: a resize, re-encode or crop matches its original
    /// at about 1, a sibling icon of one set does not. 0 turns the gate off. Chosen on one planted seed of <c>bench insight</c>.
    /// </summary>
    [Range(0.0, 1.0)] public double DuplicateMinPictureMatch { get; set; } = 0.94;

    /// <summary>Most members a duplicate group takes: a chain of near-duplicates stops growing here instead of swallowing a category.</summary>
    [Range(2, 1000)] public int MaxGroupSize { get; set; } = 20;

    /// <summary>Whether an import job runs the catalog checks at all (on by default; off only to measure what they cost).</summary>
    public bool ImportChecks { get; set; } = true;

    /// <summary>How far below its category's typical image–text agreement an imported item's own must be to be listed as a mismatch.</summary>
    [Range(0.0, 2.0)] public double MismatchMargin { get; set; } = 0.35;

    /// <summary>A category with fewer items is compared with the whole catalog's typical agreement instead.</summary>
    [Range(1, 1000)] public int MinCategoryItems { get; set; } = 5;

    /// <summary>Pictures whose shorter side is under this many pixels are listed as below a useful size.</summary>
    [Range(1, 10000)] public int MinPictureSide { get; set; } = 64;

    /// <summary>A description (or title) shared by this many items or more is listed as boilerplate (or a repeated title).</summary>
    [Range(2, 100000)] public int SharedTextItems { get; set; } = 5;

    /// <summary>Seconds between the clustering duty's looks at how much changed.</summary>
    [Range(1, 86400)] public int ClusterCheckSeconds { get; set; } = 60;

    /// <summary>The share of the clustered items that must have changed (added, changed, deleted) before the clusters are recomputed.</summary>
    [Range(0.0, 1.0)] public double ClusterChangeShare { get; set; } = 0.05;

    /// <summary>Fewest items the catalog needs before it is clustered at all.</summary>
    [Range(2, 100000)] public int MinClusterItems { get; set; } = 10;

    /// <summary>The number of clusters; 0 lets the data choose (silhouette over a sample, see docs/architecture.md, "Insight").</summary>
    [Range(0, 10000)] public int ClusterCount { get; set; }
}
