namespace Similarity.Imports;

/// <summary>
/// A row the import could not take as sent: its row number, the file line it starts on, its SKU, the file's columns
/// at fault and why. <see cref="Stored"/>: kept all the same without its picture (missingImage=textOnly).
/// </summary>
public sealed record ImportError(int Row, int? Line, string? Sku, string? Columns, string Reason, bool Stored);
