namespace Similarity.Insight;

/// <summary>
/// The catalog checks of an import job, by name (column <c>import_checks.kind</c>, the API's <c>kind</c>). A check
/// never rejects a row: the item is stored, and the check tells the admin what to look at.
/// </summary>
public static class ImportCheckKind
{
    /// <summary>Near-identical (fused cosine at least <see cref="InsightOptions.DuplicateMinScore"/>) to another item, stored before or by the same job.</summary>
    public const string Duplicate = "duplicate";

    /// <summary>Its picture agrees with its text at least <see cref="InsightOptions.MismatchMargin"/> less than its category typically does.</summary>
    public const string Mismatch = "mismatch";

    public const string NoPicture = "noPicture";

    /// <summary>The picture the job received has a shorter side under <see cref="InsightOptions.MinPictureSide"/> pixels.</summary>
    public const string SmallPicture = "smallPicture";

    /// <summary>No description, or one shared word for word by at least <see cref="InsightOptions.SharedTextItems"/> items.</summary>
    public const string BoilerplateDescription = "boilerplateDescription";

    /// <summary>A title (case aside) that at least <see cref="InsightOptions.SharedTextItems"/> SKUs carry.</summary>
    public const string RepeatedTitle = "repeatedTitle";

    public static readonly string[] All = [Duplicate, Mismatch, NoPicture, SmallPicture, BoilerplateDescription, RepeatedTitle];
}
