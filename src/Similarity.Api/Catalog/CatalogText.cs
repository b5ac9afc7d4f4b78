using System.Text;
using System.Text.Json;

namespace Similarity.Catalog;

/// <summary>
/// The one text an item is embedded by. Fields in order of importance, since truncation cuts the end:
/// <c>title. brand. category. key: value; key: value. description</c> — empty parts are left out and
/// attributes are sorted by key, so the same item always gives the same text (and the same hash).
/// </summary>
public static class CatalogText
{
    public static string Compose(string title, string? brand, string? category, JsonElement? attributes, string? description)
    {
        var parts = new List<string> { title.Trim() };
        AddIfPresent(parts, brand);
        AddIfPresent(parts, category);
        if (attributes is { ValueKind: JsonValueKind.Object } attrs)
        {
            var pairs = attrs.EnumerateObject()
                .Select(p => (p.Name, Value: p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText()))
                .Where(p => !string.IsNullOrWhiteSpace(p.Value))
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .Select(p => $"{p.Name}: {p.Value}");
            AddIfPresent(parts, string.Join("; ", pairs));
        }
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
