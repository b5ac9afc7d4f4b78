using System.Globalization;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;
using Similarity.Catalog;

namespace Similarity.Imports;

/// <summary>
/// One catalog row as uploaded: the item's fields, still strings, and the zip entry of its image.
/// <see cref="Number"/> counts data rows from 1. <see cref="Problem"/> says why a row could not even be read
/// into fields (a JSON Lines line that is not an object, or holds invalid Unicode); it is rejected with it.
/// </summary>
public sealed record CatalogRow(int Number, ItemInput Item, string? Image, string? Problem = null);

/// <summary>Reads a spooled catalog row by row, never the whole file at once.</summary>
public static class CatalogRows
{
    public static readonly string[] Columns = ["sku", "title", "description", "category", "brand", "price", "currency", "available", "image"];

    /// <summary>A header is looked for in the file's first bytes only: the request that checks it must stay quick for any file.</summary>
    public const int MaxHeaderBytes = 64 * 1024;

    public static string? FormatOf(string fileName) => Path.GetExtension(fileName).ToLowerInvariant() switch
    {
        ".csv" => "csv",
        ".jsonl" or ".ndjson" => "jsonl",
        _ => null,
    };

    public static IEnumerable<CatalogRow> Read(string path, string format) => format == "csv" ? ReadCsv(path) : ReadJsonLines(path);

    /// <summary>Refuses a catalog whose header (within its first 64 KiB) lacks the required columns, naming them.</summary>
    public static string? HeaderProblem(string path, string format)
    {
        if (format != "csv")
            return null;
        var head = new byte[MaxHeaderBytes];
        int length;
        using (var file = File.OpenRead(path))
            length = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        using var reader = new StreamReader(new MemoryStream(head, 0, length));
        using var csv = new CsvReader(reader, Configuration);
        if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is null)
            return "The CSV is empty: it needs a header row (" + string.Join(",", Columns) + ").";
        var missing = new[] { "sku", "title" }.Where(c => !csv.HeaderRecord.Contains(c, StringComparer.OrdinalIgnoreCase)).ToArray();
        return missing.Length > 0 ? $"The CSV header (its first line, within {MaxHeaderBytes} bytes) lacks the column(s) {string.Join(", ", missing)}." : null;
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
            yield return new CatalogRow(number, new ItemInput(Field("sku"), Field("title"), Field("description"), Field("category"),
                Field("brand"), Field("price"), Field("currency"), Field("available"), Field("attributes")), Field("image"));
        }
    }

    static readonly ItemInput Nothing = new(null, null, null, null, null, null, null, null, null);

    static IEnumerable<CatalogRow> ReadJsonLines(string path)
    {
        using var reader = new StreamReader(path);
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            number++;
            yield return ReadJsonLine(number, line);
        }
    }

    static CatalogRow ReadJsonLine(int number, string line)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException)
        {
            return new CatalogRow(number, Nothing, null, "The line is not valid JSON.");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return new CatalogRow(number, Nothing, null, "The line is not a JSON object.");
            string? problem = null;
            string? Field(string name)
            {
                try
                {
                    return root.TryGetProperty(name, out var value) ? value.ValueKind switch
                    {
                        JsonValueKind.String => value.GetString(),
                        JsonValueKind.Null or JsonValueKind.Undefined => null,
                        _ => value.GetRawText(),
                    } : null;
                }
                catch (InvalidOperationException)
                {
                    // System.Text.Json refuses to unescape a lone surrogate such as "\ud800" into a string.
                    problem ??= $"The field '{name}' holds a lone surrogate escape (not valid Unicode).";
                    return null;
                }
            }
            var item = new ItemInput(Field("sku"), Field("title"), Field("description"), Field("category"), Field("brand"),
                Field("price"), Field("currency"), Field("available"), Field("attributes"));
            var image = Field("image");
            return new CatalogRow(number, item, image, problem);
        }
    }
}
