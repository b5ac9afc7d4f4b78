using Similarity.Catalog;
using Similarity.Encoders;
using Similarity.Imports.Pictures;

namespace Similarity.Imports;

/// <summary>
/// A valid row on its way to the items table: its fields, the text embedded from them and that text's hash, and its
/// picture once sourced (the bytes and their hash; the hash alone when the server said the stored one is unchanged).
/// </summary>
sealed record ImportItem(CatalogRow Row, ItemFields Fields, string Text, byte[] TextHash, byte[]? Image, byte[]? ImageHash)
{
    public string Sku => Row.Item.Sku!;

    /// <summary>What this item's vectors are made from, by the model set of <paramref name="fingerprint"/>.</summary>
    public EmbeddedContent ContentWith(string fingerprint) => new(TextHash, ImageHash, fingerprint);
}

/// <summary>
/// A rejected row, naming the file's columns at fault and why; <see cref="Stored"/> when the row was kept all the
/// same without its picture (then it is a warning, listed with the row errors but not counted as one).
/// </summary>
sealed record RejectedRow(CatalogRow Row, string? Columns, string Reason, bool Stored = false)
{
    /// <summary>A rejected row naming, in the file's own words, the columns behind our <paramref name="fields"/>.</summary>
    public static RejectedRow Naming(CatalogRow row, string reason, params string[] fields) =>
        new(row, fields.Length == 0 ? null : string.Join(", ", fields.Select(row.ColumnOf).Distinct()), reason);
}

/// <summary>A picture downloaded this run: remembered so the next import of the same URL asks whether it changed.</summary>
sealed record PictureSource(string Url, PictureValidators Validators, byte[] Sha256)
{
    /// <summary>Longest ETag kept (column <c>picture_sources.etag</c>); a longer one is cut, so never matches again.</summary>
    public const int MaxETagLength = 1000;
}

/// <summary>What became of a batch's rows so far; filled by each stage, written by <see cref="ImportBatchWriter"/>.</summary>
sealed class BatchOutcome
{
    public List<(ImportItem Item, ItemVectors Vectors)> Embedded { get; } = [];

    /// <summary>Rows whose embedded content is stored as it is: their plain fields only are written.</summary>
    public List<ImportItem> Unchanged { get; } = [];

    public List<RejectedRow> Rejected { get; } = [];

    public List<PictureSource> Downloaded { get; } = [];

    /// <summary>The stored copies of the embedded rows' pictures, by SKU.</summary>
    public Dictionary<string, NormalisedPicture> Pictures { get; } = new(StringComparer.Ordinal);

    public int Superseded { get; set; }
}
