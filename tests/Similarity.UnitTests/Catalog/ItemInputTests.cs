using System.Text.Json;
using Similarity.Catalog;

namespace Similarity.UnitTests.Catalog;

/// <summary>The one validation of PUT /items and import rows: whatever it passes, PostgreSQL stores.</summary>
public sealed class ItemInputTests
{
    static readonly ItemInput Valid = new("hat-1", "  Wool hat ", null, "hats", null, "19.99", "eur", "false", """{"size": "M"}""");

    // Named cases, built here: a NUL or a lone surrogate in a test's name would not survive the test report.
    static readonly Dictionary<string, (ItemInput Input, string Field)> Bad = new()
    {
        ["sku with a final newline"] = (Valid with { Sku = "hat-1\n" }, "sku"),
        ["sku too long"] = (Valid with { Sku = new string('a', 65) }, "sku"),
        ["title missing"] = (Valid with { Title = " " }, "title"),
        ["title with a NUL"] = (Valid with { Title = "Wool\0hat" }, "title"),
        ["title with a lone high surrogate"] = (Valid with { Title = "Wool \ud800 hat" }, "title"),
        ["title with a lone low surrogate"] = (Valid with { Title = "\udc00" }, "title"),
        ["title too long"] = (Valid with { Title = new string('t', ItemInput.MaxTitle + 1) }, "title"),
        ["description with a NUL"] = (Valid with { Description = "\0" }, "description"),
        ["category with a NUL"] = (Valid with { Category = "hats\0" }, "category"),
        ["brand too long"] = (Valid with { Brand = new string('b', ItemInput.MaxName + 1) }, "brand"),
        ["price with more decimals than its currency"] = (Valid with { Price = "999999999999.995" }, "price"),
        ["price with fifteen digits"] = (Valid with { Price = "100000000000000" }, "price"),
        ["price with a decimal comma"] = (Valid with { Price = "1,99" }, "price"),
        ["price negative"] = (Valid with { Price = "-0.01" }, "price"),
        ["price past decimal"] = (Valid with { Price = new string('9', 40) }, "price"),
        ["price NaN"] = (Valid with { Price = "NaN" }, "price"),
        ["currency with a final newline"] = (Valid with { Currency = "EUR\nX" }, "currency"),
        ["available neither"] = (Valid with { Available = "maybe" }, "available"),
        ["attributes a NUL escape"] = (Valid with { Attributes = """{"a": "\u0000"}""" }, "attributes"),
        ["attributes a NUL escape in a key"] = (Valid with { Attributes = """{"\u0000": 1}""" }, "attributes"),
        ["attributes a lone surrogate escape"] = (Valid with { Attributes = """{"a": ["\ud800"]}""" }, "attributes"),
        ["attributes a lone surrogate escape in a key"] = (Valid with { Attributes = """{"\udfff": 1}""" }, "attributes"),
        ["attributes a raw lone surrogate"] = (Valid with { Attributes = "{\"a\": \"\ud800\"}" }, "attributes"),
        ["attributes a raw NUL"] = (Valid with { Attributes = "{\"a\": \"\0\"}" }, "attributes"),
        ["attributes a number past numeric"] = (Valid with { Attributes = """{"n": 1e999999}""" }, "attributes"),
        ["attributes a number below numeric"] = (Valid with { Attributes = """{"n": 1e-99999}""" }, "attributes"),
        ["attributes a number past double"] = (Valid with { Attributes = """{"n": 2e308}""" }, "attributes"),
        ["attributes nested past the parser's depth"] = (Valid with { Attributes = "{\"a\":" + new string('[', 100) + new string(']', 100) + "}" }, "attributes"),
        ["attributes not an object"] = (Valid with { Attributes = "[1, 2]" }, "attributes"),
        ["attributes not JSON"] = (Valid with { Attributes = "{nope" }, "attributes"),
        // .NET's Uri takes these as http addresses; the items table's CHECK ('^https?://') does not.
        ["imageUrl without its slashes"] = (Valid with { ImageUrl = "http:shop.example/hat.jpg" }, "imageUrl"),
        ["imageUrl with backslashes"] = (Valid with { ImageUrl = @"https:\\shop.example\hat.jpg" }, "imageUrl"),
        ["imageUrl with one slash"] = (Valid with { ImageUrl = "https:/shop.example/hat.jpg" }, "imageUrl"),
        ["imageUrl of another scheme"] = (Valid with { ImageUrl = "ftp://shop.example/hat.jpg" }, "imageUrl"),
        ["imageUrl relative"] = (Valid with { ImageUrl = "/hat.jpg" }, "imageUrl"),
    };

    public static TheoryData<string> BadCases => [.. Bad.Keys];

    [Theory]
    [MemberData(nameof(BadCases))]
    public void A_value_the_database_cannot_store_is_an_error_naming_its_field(string name)
    {
        var (input, field) = Bad[name];
        var validated = input.Validate();
        Assert.Null(validated.Value);
        Assert.Equal([field], validated.Errors.Keys);
    }

    [Fact]
    public void A_valid_item_is_trimmed_and_normalised()
    {
        var fields = Valid.Validate().Value!;
        Assert.Equal("Wool hat", fields.Title);
        Assert.Equal(19.99m, fields.Price);
        Assert.Equal("EUR", fields.Currency);
        Assert.False(fields.Available);
        Assert.Equal("M", fields.Attributes.GetProperty("size").GetString());
    }

    [Theory]
    [InlineData("99999999999999.99", "EUR", "99999999999999.99")]
    [InlineData("19.90", "EUR", "19.90")]
    [InlineData("1999", "JPY", "1999")]
    [InlineData("1.234", "BHD", "1.234")]
    public void Prices_are_kept_exactly_to_the_currencys_minor_units(string price, string currency, string stored)
    {
        var kept = (Valid with { Price = price, Currency = currency }).Validate().Value!.Price;
        Assert.Equal(decimal.Parse(stored, System.Globalization.CultureInfo.InvariantCulture), kept);
        Assert.Equal(stored, kept!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)); // the scale too: never rounded
    }

    [Theory]
    [InlineData("HTTPS://shop.example/Hat.JPG", "https://shop.example/Hat.JPG")]
    [InlineData("Http://SHOP.example/a.jpg?Size=L", "http://SHOP.example/a.jpg?Size=L")]
    [InlineData(" https://shop.example/a.jpg ", "https://shop.example/a.jpg")]
    public void An_image_url_is_stored_with_its_scheme_in_lower_case_and_nothing_else_changed(string sent, string stored) =>
        Assert.Equal(stored, (Valid with { ImageUrl = sent }).Validate().Value!.ImageUrl);

    [Theory]
    [InlineData("19.900000", "EUR", "19.90")]
    [InlineData("7.00000", "JPY", "7")]
    [InlineData("1.234000", "BHD", "1.234")]
    [InlineData("2.50000", null, "2.50")]
    public void Zeros_past_the_currencys_minor_units_are_dropped_so_the_database_takes_the_price(string price, string? currency, string stored)
    {
        var kept = (Valid with { Price = price, Currency = currency }).Validate().Value!.Price;
        Assert.Equal(stored, kept!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("12.345", "EUR")]
    [InlineData("19.999", "JPY")]
    [InlineData("0.004", null)]
    public void A_price_with_more_decimals_than_its_currency_is_refused_not_rounded(string price, string? currency) =>
        Assert.Contains("digits after the point", (Valid with { Price = price, Currency = currency }).Validate().Errors["price"][0], StringComparison.Ordinal);

    [Fact]
    public void Emoji_right_to_left_marks_and_sql_text_are_plain_text()
    {
        var fields = (Valid with { Title = "😀 \u202Eevil\u202C ' OR 1=1; --", Attributes = """{"n": 1.5e300, "flag": "👩‍👩‍👧"}""" }).Validate().Value!;
        Assert.StartsWith("😀", fields.Title, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Number, fields.Attributes.GetProperty("n").ValueKind);
    }

    [Fact]
    public void Storable_replaces_what_text_cannot_hold_and_keeps_pairs()
    {
        Assert.Equal("a\uFFFDb\uFFFDc😀", FieldRules.Storable("a\0b\ud800c😀"));
        Assert.Equal("ab…", FieldRules.Storable("abc", maxLength: 2));
    }
}
