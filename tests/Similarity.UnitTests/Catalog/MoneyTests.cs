using Similarity.Catalog;

namespace Similarity.UnitTests.Catalog;

public sealed class MoneyTests
{
    [Theory]
    [InlineData("19.99", "EUR", "19.99")]
    [InlineData("19.90", "EUR", "19.90")]
    [InlineData("19.9", "EUR", "19.9")]
    [InlineData("1999", "JPY", "1999")]
    [InlineData("19.000", "JPY", "19")] // zeros past the currency's minor units are dropped; nothing is rounded
    [InlineData("1.234", "BHD", "1.234")]
    [InlineData("0", null, "0")]
    [InlineData(" 4.50 ", null, "4.50")]
    [InlineData("99999999999999", "EUR", "99999999999999")]
    public void A_price_is_kept_exactly_as_written(string text, string? currency, string expected)
    {
        // As text: decimal equality ignores the scale (19.9m == 19.90m), and the scale is what "exactly" means here.
        Assert.Equal(expected, Money.Parse(text, currency, out var error)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("1,99", "EUR", "has a comma")]
    [InlineData("24,90", null, "has a comma")]
    [InlineData("1,999.00", "USD", "has a comma")]
    [InlineData("19.999", "JPY", "JPY has 0 (ISO 4217)")]
    [InlineData("19.999", "EUR", "EUR has 2 (ISO 4217)")]
    [InlineData("1.2345", "BHD", "BHD has 3 (ISO 4217)")]
    [InlineData("999999999999.995", null, "without a currency has at most 2")]
    [InlineData("100000000000000", "EUR", "over the largest price")]
    [InlineData("-1", null, "not a price")]
    [InlineData("1e3", null, "not a price")]
    [InlineData("NaN", null, "not a price")]
    [InlineData("", null, "not a price")]
    [InlineData("12.", null, "not a price")]
    public void A_price_that_cannot_be_kept_exactly_is_refused_in_the_apis_words(string text, string? currency, string reason)
    {
        Assert.Null(Money.Parse(text, currency, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.DoesNotContain("Decimal", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("JPY", 0)]
    [InlineData("jpy", 0)]
    [InlineData("EUR", 2)]
    [InlineData("KWD", 3)]
    [InlineData("CLF", 4)]
    [InlineData(null, 2)]
    public void Minor_units_follow_iso_4217(string? currency, int digits) => Assert.Equal(digits, Money.MinorUnits(currency));
}
