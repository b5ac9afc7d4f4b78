namespace Similarity.Models;

/// <summary>
/// The items' two column groups: the live set's vectors (<c>embedding</c>, …) and the standby set's twins
/// (<c>standby_embedding</c>, …). An activation swaps their names; a retirement clears the standby group.
/// </summary>
internal static class StandbyColumns
{
    /// <summary>The column groups an activation swaps: each live column and its standby twin.</summary>
    public static readonly string[] Swapped =
        ["fingerprint", "embedding", "image_embedding", "text_embedding", "image_weight", "text_weight", "text_sha256", "image_sha256"];

    /// <summary>
    /// The standby group out of date for the standby set: another set's vectors, or made from content the item no longer
    /// has. <c>@standby</c> is the standby set's fingerprint.
    /// </summary>
    public const string Stale =
        "(standby_fingerprint IS DISTINCT FROM @standby OR standby_text_sha256 IS DISTINCT FROM text_sha256 OR standby_image_sha256 IS DISTINCT FROM image_sha256)";
}
