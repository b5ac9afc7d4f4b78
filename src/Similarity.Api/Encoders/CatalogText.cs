using System.Text;

namespace Similarity.Encoders;

/// <summary>
/// The one text an item is embedded by: <c>title. category. description</c>, in order of importance since
/// truncation cuts the end, empty parts left out, so the same item always gives the same text (and hash). Brand,
/// attributes, price, currency, availability and the picture's URL are not embedded: a shop changes them all day,
/// and changing them never costs a re-embedding (PATCH /items, imports).
/// </summary>
public static class CatalogText
{
    public static string Compose(string title, string? category, string? description)
    {
        var parts = new List<string> { title.Trim() };
        AddIfPresent(parts, category);
        AddIfPresent(parts, description);
        return string.Join(". ", parts);
    }

    static void AddIfPresent(List<string> parts, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
            parts.Add(value.Trim());
    }

    public static byte[] Hash(string text) => System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
