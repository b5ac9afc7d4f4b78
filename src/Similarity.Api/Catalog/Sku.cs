using System.Text.RegularExpressions;
using Similarity.Hosting;

namespace Similarity.Catalog;

public static partial class Sku
{
    public const string Rule = "1–64 characters of letters, digits, '.', '_' and '-'";

    // \z, not $: .NET's $ also matches before a final newline, which the database's CHECK refuses ("abc\n").
    [GeneratedRegex("^" + Identifiers.Pattern + @"\z")]
    public static partial Regex Pattern();

    public static bool IsValid(string? sku) => sku is not null && Pattern().IsMatch(sku);

    /// <summary>
    /// A comma-separated list of SKUs from a query parameter (blank entries ignored, duplicates kept once), or the
    /// reason it is refused: more than <paramref name="max"/>, or an entry that is no SKU.
    /// </summary>
    public static (string[] Skus, string? Error) ParseList(string? csv, string name, int max)
    {
        var skus = (csv ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();
        if (skus.Length > max)
            return (skus, $"{name} takes at most {max} SKUs.");
        if (skus.FirstOrDefault(s => !IsValid(s)) is { } bad)
            return (skus, $"'{FieldRules.Quote(bad)}' is not a SKU ({Rule}).");
        return (skus, null);
    }
}
