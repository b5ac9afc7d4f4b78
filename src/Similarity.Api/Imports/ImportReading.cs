using Similarity.Imports.Formats;

namespace Similarity.Imports;

/// <summary>
/// How a job reads its upload: the format the client named (null: detected from the file), the column mapping of a
/// mapped CSV, and what to do with a row whose picture cannot be downloaded (<c>skip</c> it, or store it <c>textOnly</c>).
/// </summary>
public sealed record ImportReading(string? FormatName, string? Mapping, string MissingImage)
{
    public const string Skip = "skip", TextOnly = "textOnly";

    public static readonly ImportReading Default = new(null, null, Skip);

    /// <summary>
    /// The catalog's layout and mapping, from the file's first bytes and these settings: the same answer for the
    /// request that checks an upload and the job that reads it. A refusal names the field at fault.
    /// </summary>
    public (CatalogLayout Layout, MappedCatalog? Mapping) Open(string catalogPath)
    {
        var mapping = Mapping is null ? null : MappedCatalog.Parse(Mapping);
        var layout = CatalogLayout.Detect(catalogPath, FormatName, mapping is not null);
        mapping?.CheckHeader(layout.Header ?? []);
        return (layout, mapping);
    }
}
