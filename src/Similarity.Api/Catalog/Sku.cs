using System.Text.RegularExpressions;

namespace Similarity.Catalog;

public static partial class Sku
{
    public const string Rule = "1–64 characters of letters, digits, '.', '_' and '-'";

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    public static partial Regex Pattern();

    public static bool IsValid(string? sku) => sku is not null && Pattern().IsMatch(sku);
}
