namespace Similarity.Imports;

/// <summary>
/// A row the import could not take as sent: its row number, the file line it starts on, its SKU, the file's columns
/// at fault and why. <see cref="Stored"/>: kept all the same without its picture (missingImage=textOnly).
/// </summary>
public sealed record ImportError(int Row, int? Line, string? Sku, string? Columns, string Reason, bool Stored)
{
    /// <summary>Longest SKU quoted back (a rejected row's SKU may be any length; a valid one is far shorter).</summary>
    public const int MaxSkuLength = 200;

    /// <summary>Longest list of the file's columns at fault.</summary>
    public const int MaxColumnsLength = 500;

    /// <summary>Longest reason (it may quote what the row sent).</summary>
    public const int MaxReasonLength = 1000;
}
