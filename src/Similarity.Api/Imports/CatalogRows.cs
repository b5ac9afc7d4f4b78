using System.Text;
using System.Text.Json;
using Similarity.Catalog;
using Similarity.Imports.Formats;

namespace Similarity.Imports;

/// <summary>
/// One catalog row as uploaded, in any format: the item's fields still strings, the zip entry or the URL of its
/// picture, the file line it starts on and the shop's own name for each field (what an error names).
/// <see cref="Number"/> counts data rows from 1 — the job's resume point. <see cref="Problem"/> says why the row
/// could not even be read into fields; it is rejected with it.
/// </summary>
public sealed record CatalogRow(int Number, int Line, ItemInput Item, string? Image, string? ImageUrl,
    IReadOnlyDictionary<string, string> Columns, string? Problem = null, string? ProblemColumns = null)
{
    /// <summary>The file's column (or XML element) one of our fields came from, e.g. "Variant Price" for price.</summary>
    public string ColumnOf(string field) => Columns.TryGetValue(field, out var column) ? column : field;
}

/// <summary>Reads a spooled catalog of any format row by row, never the whole file at once.</summary>
public static class CatalogRows
{
    public static IEnumerable<CatalogRow> Read(string path, CatalogLayout layout, MappedCatalog? mapping)
    {
        var number = 0;
        foreach (var row in CatalogReader.Read(path, layout, mapping))
            yield return From(++number, row);
    }

    static CatalogRow From(int number, SourceRow row)
    {
        var columns = row.Fields.ToDictionary(f => f.Key, f => f.Value.Column, StringComparer.Ordinal);
        var attributes = row[CatalogField.Attributes];
        if (row.Attributes.Count > 0)
        {
            attributes = AttributesJson(row.Attributes);
            columns.TryAdd(CatalogField.Attributes, string.Join(", ", row.Attributes.Keys));
        }
        var item = new ItemInput(row[CatalogField.Sku], row[CatalogField.Title], row[CatalogField.Description], row[CatalogField.Category],
            row[CatalogField.Brand], row[CatalogField.Price], row[CatalogField.Currency], row[CatalogField.Available], attributes,
            row[CatalogField.ImageUrl]);
        var problem = row.Problems.Count == 0 ? null : string.Join(" ", row.Problems.Select(p => p.Message));
        var problemColumns = row.Problems.Count == 0 ? null : string.Join(", ", row.Problems.Select(p => p.Column).Distinct());
        return new CatalogRow(number, row.Line, item, row[CatalogField.Image], row[CatalogField.ImageUrl], columns, problem, problemColumns);
    }

    /// <summary>A format's own attributes as a JSON object: one value as a string, a repeated one as an array.</summary>
    static string AttributesJson(IReadOnlyDictionary<string, IReadOnlyList<string>> attributes)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (name, values) in attributes)
            {
                if (values.Count == 1)
                {
                    json.WriteString(name, values[0]);
                    continue;
                }
                json.WriteStartArray(name);
                foreach (var value in values)
                    json.WriteStringValue(value);
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
