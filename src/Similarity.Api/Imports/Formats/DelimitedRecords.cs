using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Similarity.Imports.Formats;

/// <summary>One record of a delimited file: the header's columns, its values, and the file line the record starts on.</summary>
internal sealed record DelimitedRecord(int Line, IReadOnlyList<string> Header, string[] Values)
{
    /// <summary>The value of the column named <paramref name="column"/> (case-insensitive), or null.</summary>
    public string? this[string column]
    {
        get
        {
            for (var i = 0; i < Header.Count && i < Values.Length; i++)
            {
                if (string.Equals(Header[i], column, StringComparison.OrdinalIgnoreCase))
                    return Values[i];
            }
            return null;
        }
    }
}

/// <summary>Streams a delimited file record by record with CsvHelper, counting physical lines (a quoted value may span several).</summary>
internal static class DelimitedRecords
{
    public static IEnumerable<DelimitedRecord> Read(string path, char delimiter)
    {
        using var reader = new StreamReader(path);
        using var parser = new CsvParser(reader, new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = delimiter.ToString(),
            BadDataFound = null,
            DetectDelimiter = false,
        });
        if (!parser.Read())
            yield break;
        var header = parser.Record!.Select(h => h.Trim()).ToArray();
        var nextLine = parser.RawRow + 1;
        while (parser.Read())
        {
            var line = nextLine;
            nextLine = parser.RawRow + 1;
            var values = parser.Record!;
            if (values.All(string.IsNullOrWhiteSpace))
                continue;
            yield return new DelimitedRecord(line, header, values);
        }
    }
}
