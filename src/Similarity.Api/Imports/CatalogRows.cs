using System.Globalization;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;

namespace Similarity.Imports;

/// <summary>One catalog row as uploaded, every field still a string. <see cref="Number"/> counts data rows from 1.</summary>
public sealed record CatalogRow(
    int Number, string? Sku, string? Title, string? Description, string? Category, string? Brand, string? Price,
    string? Currency, string? Available, string? Image, string? Attributes);

/// <summary>Reads a spooled catalog row by row, never the whole file at once.</summary>
public static class CatalogRows
{
    public static readonly string[] Columns = ["sku", "title", "description", "category", "brand", "price", "currency", "available", "image"];

    public static string? FormatOf(string fileName) => Path.GetExtension(fileName).ToLowerInvariant() switch
    {
        ".csv" => "csv",
        ".jsonl" or ".ndjson" => "jsonl",
        _ => null,
    };

    public static IEnumerable<CatalogRow> Read(string path, string format) => format == "csv" ? ReadCsv(path) : ReadJsonLines(path);

    /// <summary>Refuses a catalog whose header lacks the required columns, naming them.</summary>
    public static string? HeaderProblem(string path, string format)
    {
        if (format != "csv")
            return null;
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, Configuration);
        if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is null)
            return "The CSV is empty: it needs a header row (" + string.Join(",", Columns) + ").";
        var missing = new[] { "sku", "title" }.Where(c => !csv.HeaderRecord.Contains(c, StringComparer.OrdinalIgnoreCase)).ToArray();
        return missing.Length > 0 ? $"The CSV header lacks the column(s) {string.Join(", ", missing)}." : null;
    }

    static readonly CsvConfiguration Configuration = new(CultureInfo.InvariantCulture)
    {
        PrepareHeaderForMatch = args => args.Header.Trim().ToLowerInvariant(),
        MissingFieldFound = null,
        BadDataFound = null,
        DetectDelimiter = false,
    };

    static IEnumerable<CatalogRow> ReadCsv(string path)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, Configuration);
        if (!csv.Read())
            yield break;
        csv.ReadHeader();
        var number = 0;
        while (csv.Read())
        {
            number++;
            string? Field(string name) => csv.TryGetField<string>(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;
            yield return new CatalogRow(number, Field("sku"), Field("title"), Field("description"), Field("category"), Field("brand"),
                Field("price"), Field("currency"), Field("available"), Field("image"), Field("attributes"));
        }
    }

    static IEnumerable<CatalogRow> ReadJsonLines(string path)
    {
        using var reader = new StreamReader(path);
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            number++;
            JsonElement root;
            try
            {
                root = JsonDocument.Parse(line).RootElement;
            }
            catch (JsonException)
            {
                root = default;
            }
            if (root.ValueKind != JsonValueKind.Object)
            {
                // A line that is not a JSON object is a row with nothing usable; validation reports it.
                yield return new CatalogRow(number, null, null, null, null, null, null, null, null, null, null);
                continue;
            }
            string? Field(string name) => root.TryGetProperty(name, out var value) ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => value.GetRawText(),
            } : null;
            yield return new CatalogRow(number, Field("sku"), Field("title"), Field("description"), Field("category"), Field("brand"),
                Field("price"), Field("currency"), Field("available"), Field("image"), Field("attributes"));
        }
    }
}
