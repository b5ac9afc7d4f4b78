using Similarity.Catalog;
using Similarity.Encoders;

namespace Similarity.Imports;

/// <summary>
/// Which rows of a batch go on: a row is rejected when a later row of the same SKU supersedes it (a SKU repeated in
/// one catalog keeps its last row), or when it fails the validation of PUT /items (a row that passes, the database
/// takes), naming the file's columns at fault. Decided before any picture is known.
/// </summary>
static class RowScreening
{
    /// <summary>
    /// The number of rows, and each SKU's last row. Deterministic, so a resumed job decides the same.
    /// <paramref name="maxRows"/> is checked as the rows are counted: past it, <paramref name="tooMany"/> is thrown.
    /// </summary>
    public static (int Rows, Dictionary<string, int> LastRow) Count(IEnumerable<CatalogRow> rows, int maxRows, Func<Exception> tooMany)
    {
        var lastRow = new Dictionary<string, int>(StringComparer.Ordinal);
        var count = 0;
        foreach (var row in rows)
        {
            if (++count > maxRows)
                throw tooMany();
            if (row.Item.Sku is { } sku)
                lastRow[sku] = row.Number;
        }
        return (count, lastRow);
    }

    /// <summary>The batch's valid rows as items; the others go to <paramref name="outcome"/>'s rejected rows.</summary>
    public static List<ImportItem> Screen(CatalogRow[] rows, IReadOnlyDictionary<string, int> lastRow, BatchOutcome outcome)
    {
        var valid = new List<ImportItem>();
        foreach (var row in rows)
        {
            if (row.Item.Sku is { } sku && lastRow.TryGetValue(sku, out var last) && last != row.Number)
            {
                outcome.Rejected.Add(RejectedRow.Naming(row, $"superseded by row {last}"));
                outcome.Superseded++;
                continue;
            }
            if (Validate(row) is { } item)
                valid.Add(item);
            else
                outcome.Rejected.Add(RejectionOf(row));
        }
        return valid;
    }

    static ImportItem? Validate(CatalogRow row)
    {
        if (row.Problem is not null || row.Item.Validate().Value is not { } fields)
            return null;
        var text = CatalogText.Of(fields);
        return new ImportItem(row, fields, text, CatalogText.Hash(text), null, null);
    }

    static RejectedRow RejectionOf(CatalogRow row)
    {
        if (row.Problem is not null)
            return new RejectedRow(row, row.ProblemColumns, row.Problem);
        var errors = row.Item.Validate();
        return RejectedRow.Naming(row, errors.Reason, [.. errors.Errors.Keys]);
    }
}
