using System.Globalization;
using System.Text.RegularExpressions;

namespace Similarity.Catalog;

/// <summary>
/// Prices as a shop writes them: a dot before the decimals and nothing else (no thousands separators, no exponent),
/// kept exactly to the currency's minor units — 0 for JPY, 2 for EUR, 3 for BHD (ISO 4217) — and never rounded: a
/// price with more digits than its currency has is refused, as is "1,99", whose comma means a decimal point to one
/// shop and a thousands separator to another.
/// </summary>
public static partial class Money
{
    /// <summary>Digits after the point a price may have when its item names no currency.</summary>
    public const int DefaultMinorUnits = 2;

    /// <summary>Prices are below this: at most fourteen digits before the point (the items table's items_price_exact).</summary>
    public const decimal Limit = 100_000_000_000_000m;

    // ISO 4217's currencies whose minor unit is not 2 (the table's "minor unit" column); every other code has 2.
    // Hand-written: .NET knows a culture's currency digits, not a currency's.
    static readonly Dictionary<string, int> MinorUnitExceptions = new(StringComparer.Ordinal)
    {
        ["BIF"] = 0, ["CLP"] = 0, ["DJF"] = 0, ["GNF"] = 0, ["ISK"] = 0, ["JPY"] = 0, ["KMF"] = 0, ["KRW"] = 0, ["PYG"] = 0,
        ["RWF"] = 0, ["UGX"] = 0, ["UYI"] = 0, ["VND"] = 0, ["VUV"] = 0, ["XAF"] = 0, ["XOF"] = 0, ["XPF"] = 0,
        ["BHD"] = 3, ["IQD"] = 3, ["JOD"] = 3, ["KWD"] = 3, ["LYD"] = 3, ["OMR"] = 3, ["TND"] = 3,
        ["CLF"] = 4, ["UYW"] = 4,
    };

    /// <summary>The digits after the point a price in <paramref name="currency"/> has (ISO 4217's minor unit).</summary>
    public static int MinorUnits(string? currency) =>
        currency is null ? DefaultMinorUnits : MinorUnitExceptions.GetValueOrDefault(currency.ToUpperInvariant(), 2);

    [GeneratedRegex(@"^(?<units>[0-9]+)(\.(?<minor>[0-9]+))?\z")]
    private static partial Regex Plain();

    /// <summary>The price, exactly as written, or null with the reason in the API's words.</summary>
    public static decimal? Parse(string text, string? currency, out string? error)
    {
        error = null;
        var trimmed = text.Trim();
        if (Plain().Match(trimmed) is not { Success: true } match)
        {
            error = trimmed.Contains(',', StringComparison.Ordinal)
                ? $"'{text}' has a comma: write prices with a dot before the decimals and no thousands separators, like 1234.99."
                : $"'{text}' is not a price: write a non-negative amount with a dot before the decimals, like 19.99.";
            return null;
        }
        var minor = match.Groups["minor"].Value;
        var allowed = MinorUnits(currency);
        if (minor.TrimEnd('0').Length > allowed)
        {
            error = currency is null
                ? $"'{text}' has {minor.Length} digits after the point; a price without a currency has at most {allowed}."
                : $"'{text}' has {minor.Length} digits after the point; {currency.ToUpperInvariant()} has {allowed} (ISO 4217).";
            return null;
        }
        if (match.Groups["units"].Value.TrimStart('0').Length > 14 || !decimal.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price) || price >= Limit)
        {
            error = $"'{text}' is over the largest price taken (prices are below {Limit.ToString(CultureInfo.InvariantCulture)}).";
            return null;
        }
        // Zeros past the minor units say nothing and the items table keeps at most 4 decimals: 19.900000 EUR is 19.90.
        return minor.Length > allowed ? decimal.Round(price, allowed) : price;
    }
}
