using AngleSharp.Html.Parser;

namespace Similarity.Imports.Formats;

/// <summary>A product description written in HTML (Shopify's Body (HTML)) reduced to the text a person reads.</summary>
public static class HtmlText
{
    static readonly HtmlParser Parser = new();

    // Elements after which a reader sees a break, so "<p>Red</p><p>Mug</p>" does not become "RedMug".
    static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "table", "section", "article", "blockquote",
    };

    public static string ToText(string html)
    {
        if (!html.Contains('<', StringComparison.Ordinal) && !html.Contains('&', StringComparison.Ordinal))
            return Collapse(html);
        using var document = Parser.ParseDocument(html);
        foreach (var script in document.QuerySelectorAll("script, style, template").ToList())
            script.Remove();
        foreach (var block in document.All.Where(e => Blocks.Contains(e.LocalName)).ToList())
            block.After(document.CreateTextNode(" "));
        return Collapse(document.Body?.TextContent ?? "");
    }

    static string Collapse(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
