namespace Similarity.Imports.Formats;

/// <summary>Our catalog's fields: the names every format maps its own columns or elements onto.</summary>
public static class CatalogField
{
    public const string Sku = "sku", Title = "title", Description = "description", Category = "category", Brand = "brand",
        Price = "price", Currency = "currency", Available = "available", Image = "image", ImageUrl = "imageUrl", Attributes = "attributes";

    public static readonly string[] All = [Sku, Title, Description, Category, Brand, Price, Currency, Available, Image, ImageUrl, Attributes];
}

/// <summary>A value as the shop's file wrote it, and the column or element it came from (what a row error names).</summary>
public readonly record struct SourceValue(string Text, string Column);

/// <summary>
/// One catalog row as read from a shop's file, before validation: our fields as written and where each came from,
/// the attributes the row carries beyond our fields (a name may repeat, e.g. additional_image_link), what the
/// reader already found wrong, and the line of the file the row starts on.
/// </summary>
public sealed record SourceRow(
    int Line,
    IReadOnlyDictionary<string, SourceValue> Fields,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Attributes,
    IReadOnlyList<SourceProblem> Problems)
{
    /// <summary>The field's text, or null when the row leaves it out or empty.</summary>
    public string? this[string field] => Fields.TryGetValue(field, out var value) && value.Text.Length > 0 ? value.Text : null;

    /// <summary>The shop's name for one of our fields in this row, e.g. "Variant Price" or "g:price".</summary>
    public string ColumnOf(string field) => Fields.TryGetValue(field, out var value) ? value.Column : field;
}

/// <summary>Something a reader found wrong with a value, naming the column or element it came from.</summary>
public sealed record SourceProblem(string Column, string Message);

/// <summary>Builds a <see cref="SourceRow"/> as a reader walks one record of the file.</summary>
internal sealed class SourceRowBuilder(int line)
{
    readonly Dictionary<string, SourceValue> _fields = new(StringComparer.Ordinal);
    readonly Dictionary<string, List<string>> _attributes = new(StringComparer.Ordinal);
    readonly List<SourceProblem> _problems = [];

    public int Line => line;

    /// <summary>
    /// Sets one of our fields as written — never trimmed here: validation decides what surrounding space means for
    /// each field (a quoted SKU ending in a newline is an error, not a SKU). A blank value is left out, so a later
    /// column may still fill it.
    /// </summary>
    public SourceRowBuilder Set(string field, string? text, string column)
    {
        if (!string.IsNullOrWhiteSpace(text))
            _fields[field] = new SourceValue(text, column);
        return this;
    }

    public bool Has(string field) => _fields.ContainsKey(field);

    public SourceRowBuilder Attribute(string name, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return this;
        if (!_attributes.TryGetValue(name, out var values))
            _attributes[name] = values = [];
        values.Add(text.Trim());
        return this;
    }

    public SourceRowBuilder Problem(string column, string message)
    {
        _problems.Add(new SourceProblem(column, message));
        return this;
    }

    public SourceRow Build() => new(line, _fields, _attributes.ToDictionary(a => a.Key, a => (IReadOnlyList<string>)a.Value), _problems);
}
