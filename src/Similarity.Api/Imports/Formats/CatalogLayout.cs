using System.Text;
using System.Xml;
using Similarity.Encoders;
using Similarity.Hosting;

namespace Similarity.Imports.Formats;

/// <summary>Whose columns a catalog speaks: ours, Google Merchant Center's, Shopify's product export's, or a mapping's.</summary>
public enum CatalogFormat { Native, MerchantCenter, Shopify, Mapped }

/// <summary>How a catalog file is written.</summary>
public enum CatalogSyntax { Delimited, JsonLines, Xml }

/// <summary>What a catalog file is: its format, its syntax and, for delimited text, its delimiter and header.</summary>
public sealed record CatalogLayout(CatalogFormat Format, CatalogSyntax Syntax, char Delimiter = ',', IReadOnlyList<string>? Header = null)
{
    /// <summary>The names the <c>format</c> form field takes.</summary>
    public static readonly IReadOnlyDictionary<string, CatalogFormat> Names = new Dictionary<string, CatalogFormat>(StringComparer.OrdinalIgnoreCase)
    {
        ["native"] = CatalogFormat.Native,
        ["merchant-center"] = CatalogFormat.MerchantCenter,
        ["shopify"] = CatalogFormat.Shopify,
    };

    public string Name => Format switch
    {
        CatalogFormat.MerchantCenter => "merchant-center",
        CatalogFormat.Shopify => "shopify",
        CatalogFormat.Mapped => "mapped",
        _ => "native",
    };

    const int Peek = 64 * 1024;

    /// <summary>
    /// Reads the start of the file: refuses a zip or other binary sent as the catalog, tells XML from JSON Lines from
    /// delimited text (comma, semicolon or tab, whichever the header line uses), then takes the format the client
    /// named, or the mapping's, or the one the header or root element shows. Every refusal names what to send.
    /// </summary>
    public static CatalogLayout Detect(string path, string? formatName, bool hasMapping)
    {
        var head = new byte[Peek];
        int length;
        using (var file = File.OpenRead(path))
            length = file.ReadAtLeast(head, Peek, throwOnEndOfStream: false);
        var bytes = head.AsSpan(0, length);
        if (bytes is [0x50, 0x4B, 0x03 or 0x05, 0x04 or 0x06, ..])
            throw new InputRejectedException("catalog", "The catalog is a zip archive. Send the catalog itself (CSV, TSV, JSON Lines or XML) as `catalog`, and a zip of pictures as `images`.", InputRejection.UnsupportedType);
        // A stray NUL in one row is that row's error; a file made of them is binary (or UTF-16 text).
        if (IsBinary(bytes))
            throw new InputRejectedException("catalog", "The catalog is a binary file (or text not in UTF-8), not text. Send UTF-8 CSV, TSV, JSON Lines or XML.", InputRejection.UnsupportedType);
        var text = Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (text.Length == 0)
            throw new InputRejectedException("catalog", "The catalog is empty.");

        CatalogFormat? named = null;
        if (!string.IsNullOrWhiteSpace(formatName))
        {
            if (!Names.TryGetValue(formatName.Trim(), out var known))
                throw new InputRejectedException("format", $"Unknown format '{formatName}': use native, merchant-center or shopify (or send a `mapping`).");
            named = known;
        }
        if (hasMapping && named is not null and not CatalogFormat.Native)
            throw new InputRejectedException("mapping", $"A mapping applies to a CSV of your own columns, not to the {formatName} format.");

        if (text[0] == '<')
        {
            if (named is not (null or CatalogFormat.MerchantCenter) || hasMapping)
                throw new InputRejectedException("catalog", "The catalog is XML: only a Merchant Center feed (RSS 2.0 or Atom with g: elements) can be XML.");
            var root = RootElement(path);
            if (root is not ("rss" or "feed"))
                throw new InputRejectedException("catalog", $"The XML's root element is <{root}>: a Merchant Center feed is RSS 2.0 (<rss>) or Atom (<feed>).");
            return new CatalogLayout(CatalogFormat.MerchantCenter, CatalogSyntax.Xml);
        }
        if (text[0] == '{')
        {
            if (named is not (null or CatalogFormat.Native) || hasMapping)
                throw new InputRejectedException("catalog", "The catalog is JSON Lines, which only our own format uses.");
            return new CatalogLayout(CatalogFormat.Native, CatalogSyntax.JsonLines);
        }

        var headerLine = text.Split('\n', 2)[0].TrimEnd('\r');
        var delimiter = DelimiterOf(headerLine);
        var columns = HeaderLine.Split(headerLine, delimiter);
        if (hasMapping)
            return new CatalogLayout(CatalogFormat.Mapped, CatalogSyntax.Delimited, delimiter, columns);
        var normalised = columns.Select(MerchantCenterFeed.Normalise).ToHashSet(StringComparer.Ordinal);
        var format = named ?? (
            normalised.Contains("handle") && (normalised.Contains("variant_sku") || normalised.Contains("variant_price")) ? CatalogFormat.Shopify
            : normalised.Contains("sku") && normalised.Contains("title") ? CatalogFormat.Native
            : normalised.Contains("id") && normalised.Contains("title") ? CatalogFormat.MerchantCenter
            : (CatalogFormat?)null);
        if (format is { } found)
        {
            string[] required = found switch
            {
                CatalogFormat.Shopify => ["handle", "title"],
                CatalogFormat.MerchantCenter => ["id", "title"],
                _ => ["sku", "title"],
            };
            var missing = required.Where(r => !normalised.Contains(r)).ToArray();
            if (missing.Length > 0)
                throw new InputRejectedException("catalog", $"The {Describe(delimiter)}-separated header of this {new CatalogLayout(found, CatalogSyntax.Delimited).Name} catalog lacks the column(s) {string.Join(", ", missing)} (it has: {string.Join(", ", columns.Take(12))}{(columns.Length > 12 ? ", …" : "")}).");
            return new CatalogLayout(found, CatalogSyntax.Delimited, delimiter, columns);
        }
        throw new InputRejectedException("catalog",
            $"The catalog's header ({Describe(delimiter)}-separated columns: {string.Join(", ", columns.Take(12))}{(columns.Length > 12 ? ", …" : "")}) " +
            "is none of the formats taken: our own (sku, title, …), a Merchant Center feed (id, title, price, …) or a Shopify product export " +
            "(Handle, Title, Variant SKU, …). Name the format in the `format` field, or map your columns with a `mapping` field.");
    }

    static bool IsBinary(ReadOnlySpan<byte> head) =>
        ImagePreprocessor.Sniff(head) is not null
        || head is [0x1F, 0x8B, ..] // gzip
        || head is [(byte)'%', (byte)'P', (byte)'D', (byte)'F', ..]
        || head.Count((byte)0) > Math.Max(8, head.Length / 100);

    /// <summary>The delimiter a header line uses most, outside quotes: tab, semicolon or comma.</summary>
    internal static char DelimiterOf(string headerLine)
    {
        var counts = new Dictionary<char, int> { ['\t'] = 0, [';'] = 0, [','] = 0 };
        var quoted = false;
        foreach (var c in headerLine)
        {
            if (c == '"')
                quoted = !quoted;
            else if (!quoted && counts.ContainsKey(c))
                counts[c]++;
        }
        var best = counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key == ',' ? 0 : 1).First();
        return best.Value == 0 ? ',' : best.Key;
    }

    internal static string Describe(char delimiter) => delimiter switch { '\t' => "tab", ';' => "semicolon", _ => "comma" };

    static string RootElement(string path)
    {
        using var reader = XmlReader.Create(path, MerchantCenterFeed.SafeXml);
        try
        {
            return reader.MoveToContent() == XmlNodeType.Element ? reader.LocalName : "(none)";
        }
        catch (XmlException ex)
        {
            throw new InputRejectedException("catalog", $"The XML cannot be read: {ex.Message}");
        }
    }
}

/// <summary>A delimited header line split as CsvHelper would, for detection only.</summary>
internal static class HeaderLine
{
    public static string[] Split(string line, char delimiter)
    {
        using var reader = new StringReader(line);
        using var csv = new CsvHelper.CsvParser(reader, new CsvHelper.Configuration.CsvConfiguration(System.Globalization.CultureInfo.InvariantCulture)
        {
            Delimiter = delimiter.ToString(),
            BadDataFound = null,
        });
        return csv.Read() ? csv.Record ?? [] : [];
    }
}
