using System.Text.RegularExpressions;

namespace Similarity.Catalog;

public static partial class Sku
{
    public const string Rule = "1–64 characters of letters, digits, '.', '_' and '-'";

    // \z, not $: .NET's $ also matches before a final newline, which the database's CHECK refuses ("abc\n").
    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z")]
    public static partial Regex Pattern();

    public static bool IsValid(string? sku) => sku is not null && Pattern().IsMatch(sku);
}
