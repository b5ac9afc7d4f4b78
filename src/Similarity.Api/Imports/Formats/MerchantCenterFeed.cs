using System.Text;
using System.Xml;

namespace Similarity.Imports.Formats;

/// <summary>
/// Google Merchant Center product data: a delimited feed (TSV or CSV; headers "image_link", "image link" or
/// "g:image_link" alike) or an XML feed (RSS 2.0 or Atom with elements in Google's g: namespace), read streaming
/// with DTDs prohibited and no external entity ever resolved. The product's own attributes map onto our fields;
/// every other attribute is kept in the item's attributes.
/// </summary>
public static class MerchantCenterFeed
{
    public const string GoogleNamespace = "http://base.google.com/ns/1.0";

    internal static readonly XmlReaderSettings SafeXml = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,
        IgnoreProcessingInstructions = true,
    };

    /// <summary>"Image Link", "g:image_link" and "image-link" all mean <c>image_link</c>.</summary>
    public static string Normalise(string column)
    {
        var name = column.Trim().ToLowerInvariant();
        if (name.StartsWith("g:", StringComparison.Ordinal))
            name = name[2..];
        return name.Replace(' ', '_').Replace('-', '_');
    }

    public static IEnumerable<SourceRow> ReadDelimited(string path, char delimiter)
    {
        foreach (var record in DelimitedRecords.Read(path, delimiter))
        {
            var row = new SourceRowBuilder(record.Line);
            for (var i = 0; i < record.Header.Count && i < record.Values.Length; i++)
                Map(row, Normalise(record.Header[i]), record.Values[i], record.Header[i]);
            yield return row.Build();
        }
    }

    public static IEnumerable<SourceRow> ReadXml(string path)
    {
        using var reader = XmlReader.Create(path, SafeXml);
        var lines = (IXmlLineInfo)reader;
        while (Next(reader))
        {
            if (reader.NodeType != XmlNodeType.Element || reader.LocalName is not ("item" or "entry"))
                continue;
            var row = new SourceRowBuilder(lines.LineNumber);
            using (var item = reader.ReadSubtree())
            {
                Next(item); // onto <item> or <entry>
                Next(item); // onto its first child
                while (!item.EOF && item.Depth >= 1)
                {
                    if (item.NodeType != XmlNodeType.Element || item.Depth != 1)
                    {
                        Next(item);
                        continue;
                    }
                    var google = item.NamespaceURI == GoogleNamespace;
                    var column = google ? "g:" + item.LocalName : item.LocalName;
                    var name = item.LocalName;
                    // Atom's own elements: its <link href>, its <summary>/<content> for the description; its <id> is a
                    // feed entry's IRI, never the product's id (that is g:id).
                    if (!google && name == "link" && item.GetAttribute("href") is { } href)
                        row.Attribute("link", href);
                    if (!google && (name is "id" or "updated" or "author" or "published" || (name == "link" && item.GetAttribute("href") is not null)))
                    {
                        item.Skip();
                        continue;
                    }
                    if (!google && name is "summary" or "content")
                        name = "description";
                    Map(row, name, ReadElement(item), column);
                }
            }
            yield return row.Build();
        }
    }

    static bool Next(XmlReader reader)
    {
        try
        {
            return reader.Read();
        }
        catch (XmlException ex)
        {
            throw new Hosting.InputRejectedException("catalog", $"The XML feed cannot be read at line {ex.LineNumber}: {ex.Message}");
        }
    }

    /// <summary>
    /// An element's text, leaving the reader just past it; a structured element (g:shipping with g:country and
    /// g:price) reads as "country: US; price: 4.95 USD".
    /// </summary>
    static string ReadElement(XmlReader element)
    {
        var depth = element.Depth;
        if (element.IsEmptyElement)
        {
            Next(element);
            return "";
        }
        var text = new StringBuilder();
        var parts = new List<string>();
        string? child = null;
        Next(element);
        while (!element.EOF && element.Depth > depth)
        {
            if (element.NodeType == XmlNodeType.Element)
                child = element.LocalName;
            else if (element.NodeType is XmlNodeType.Text or XmlNodeType.CDATA)
            {
                if (element.Depth == depth + 1)
                    text.Append(element.Value);
                else
                    parts.Add($"{child}: {element.Value.Trim()}");
            }
            Next(element);
        }
        Next(element); // past the end tag
        return parts.Count > 0 ? string.Join("; ", parts) : text.ToString();
    }

    static void Map(SourceRowBuilder row, string name, string? value, string column)
    {
        if (string.IsNullOrWhiteSpace(value))
            return;
        switch (name)
        {
            case "id":
                row.Set(CatalogField.Sku, value, column);
                break;
            case "title":
                row.Set(CatalogField.Title, value, column);
                break;
            case "description":
                row.Set(CatalogField.Description, value, column);
                break;
            case "brand":
                row.Set(CatalogField.Brand, value, column);
                break;
            case "product_type" when !row.Has(CatalogField.Category):
                row.Set(CatalogField.Category, value, column); // "Home > Kitchen > Mugs": the shop's own category path
                break;
            case "image_link" when !row.Has(CatalogField.ImageUrl):
                row.Set(CatalogField.ImageUrl, value, column);
                break;
            case "price":
                SetPrice(row, value, column);
                break;
            case "availability":
                row.Attribute("availability", value);
                switch (Normalise(value))
                {
                    case "in_stock" or "preorder" or "backorder":
                        row.Set(CatalogField.Available, "true", column);
                        break;
                    case "out_of_stock":
                        row.Set(CatalogField.Available, "false", column);
                        break;
                    default:
                        row.Problem(column, $"The availability '{value}' is none of in_stock, out_of_stock, preorder, backorder.");
                        break;
                }
                break;
            default:
                row.Attribute(name, value);
                break;
        }
    }

    /// <summary>Merchant Center's price is an amount and an ISO 4217 code: "15.00 USD".</summary>
    static void SetPrice(SourceRowBuilder row, string value, string column)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (amount, currency) = parts switch
        {
            [var a, var c] when c.Length == 3 && c.All(char.IsAsciiLetter) => (a, c),
            [var c, var a] when c.Length == 3 && c.All(char.IsAsciiLetter) => (a, c),
            _ => (null, null),
        };
        if (amount is null)
        {
            row.Problem(column, $"The price '{value}' is not an amount and a currency like \"15.00 USD\".");
            return;
        }
        row.Set(CatalogField.Price, amount, column);
        row.Set(CatalogField.Currency, currency!.ToUpperInvariant(), column);
    }
}
