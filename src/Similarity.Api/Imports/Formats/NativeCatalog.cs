using System.Text.Json;

namespace Similarity.Imports.Formats;

/// <summary>
/// Our own catalog: delimited text with our column names (sku, title, description, category, brand, price,
/// currency, available, image, imageUrl, attributes) or JSON Lines with the same names. An <c>image</c> that is an
/// http(s) URL is a picture to download, like <c>imageUrl</c>; otherwise it names an entry of the images zip.
/// </summary>
public static class NativeCatalog
{
    public static IEnumerable<SourceRow> ReadDelimited(string path, char delimiter)
    {
        foreach (var record in DelimitedRecords.Read(path, delimiter))
        {
            var row = new SourceRowBuilder(record.Line);
            for (var i = 0; i < record.Header.Count && i < record.Values.Length; i++)
            {
                if (FieldOf(record.Header[i]) is { } field)
                    Set(row, field, record.Values[i], record.Header[i]);
            }
            yield return row.Build();
        }
    }

    public static IEnumerable<SourceRow> ReadJsonLines(string path)
    {
        using var reader = new StreamReader(path);
        var line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
                continue;
            var row = new SourceRowBuilder(line);
            try
            {
                using var document = JsonDocument.Parse(text);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    row.Problem("line", "The line is not a JSON object.");
                else
                {
                    foreach (var property in document.RootElement.EnumerateObject())
                    {
                        if (FieldOf(property.Name) is not { } field)
                            continue;
                        string? value;
                        try
                        {
                            value = property.Value.ValueKind switch
                            {
                                JsonValueKind.String => property.Value.GetString(),
                                JsonValueKind.Null or JsonValueKind.Undefined => null,
                                _ => property.Value.GetRawText(),
                            };
                        }
                        catch (InvalidOperationException)
                        {
                            // System.Text.Json refuses to unescape a lone surrogate such as "\ud800" into a string.
                            row.Problem(property.Name, $"The field '{property.Name}' holds a lone surrogate escape (not valid Unicode).");
                            continue;
                        }
                        Set(row, field, value, property.Name);
                    }
                }
            }
            catch (JsonException ex)
            {
                row.Problem("line", $"The line is not valid JSON ({ex.Message.Split('.')[0]}).");
            }
            yield return row.Build();
        }
    }

    static string? FieldOf(string column) => CatalogField.All.FirstOrDefault(f => string.Equals(f, column.Trim(), StringComparison.OrdinalIgnoreCase));

    static void Set(SourceRowBuilder row, string field, string? value, string column)
    {
        if (field == CatalogField.Image && IsWebAddress(value))
            field = CatalogField.ImageUrl;
        row.Set(field, value, column);
    }

    internal static bool IsWebAddress(string? value) =>
        value is not null && (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
}
