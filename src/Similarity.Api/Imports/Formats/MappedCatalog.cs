using System.Text.Json;
using Similarity.Hosting;

namespace Similarity.Imports.Formats;

/// <summary>
/// Any other delimited catalog, through a <c>mapping</c> form field: a JSON object from our field names to the
/// file's column names, e.g. <c>{"sku": "Artikelnummer", "title": "Bezeichnung", "price": "Preis"}</c>. Columns the
/// mapping leaves out are kept in the item's attributes.
/// </summary>
public sealed class MappedCatalog
{
    readonly Dictionary<string, string> _columnOf;

    MappedCatalog(Dictionary<string, string> columnOf) => _columnOf = columnOf;

    /// <summary>Parses the mapping; a refusal names the field at fault.</summary>
    public static MappedCatalog Parse(string json)
    {
        Dictionary<string, string>? mapping;
        try
        {
            mapping = JsonSerializer.Deserialize<Dictionary<string, string>>(json);
        }
        catch (JsonException)
        {
            throw new InputRejectedException("mapping", "The mapping must be a JSON object from our field names to your column names, like {\"sku\": \"Item no\", \"title\": \"Name\"}.");
        }
        if (mapping is null || mapping.Count == 0)
            throw new InputRejectedException("mapping", "The mapping is empty.");
        var unknown = mapping.Keys.Where(k => !CatalogField.All.Contains(k, StringComparer.Ordinal)).ToArray();
        if (unknown.Length > 0)
            throw new InputRejectedException("mapping", $"The mapping names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, not fields of ours ({string.Join(", ", CatalogField.All)}).");
        foreach (var required in new[] { CatalogField.Sku, CatalogField.Title })
        {
            if (!mapping.TryGetValue(required, out var column) || string.IsNullOrWhiteSpace(column))
                throw new InputRejectedException("mapping", $"The mapping must name your column for '{required}'.");
        }
        return new MappedCatalog(mapping);
    }

    /// <summary>Refuses a mapping that names a column the header lacks.</summary>
    public void CheckHeader(IReadOnlyList<string> header)
    {
        var missing = _columnOf.Where(m => !header.Contains(m.Value, StringComparer.OrdinalIgnoreCase)).Select(m => $"{m.Key} → '{m.Value}'").ToArray();
        if (missing.Length > 0)
            throw new InputRejectedException("mapping", $"The mapping names columns the header lacks: {string.Join(", ", missing)} (the header has: {string.Join(", ", header)}).");
    }

    public IEnumerable<SourceRow> Read(string path, char delimiter)
    {
        var mapped = new HashSet<string>(_columnOf.Values, StringComparer.OrdinalIgnoreCase);
        foreach (var record in DelimitedRecords.Read(path, delimiter))
        {
            var row = new SourceRowBuilder(record.Line);
            foreach (var (field, column) in _columnOf)
                row.Set(field, record[column], column);
            for (var i = 0; i < record.Header.Count && i < record.Values.Length; i++)
            {
                if (!mapped.Contains(record.Header[i]))
                    row.Attribute(record.Header[i], record.Values[i]);
            }
            yield return row.Build();
        }
    }
}
