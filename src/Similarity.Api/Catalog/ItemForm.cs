using System.Globalization;
using System.Text.Json;

namespace Similarity.Catalog;

/// <summary>Validation of PUT /items/{sku}'s form fields; each error names its field.</summary>
public static partial class ItemForm
{
    public const int MaxTitle = 500, MaxDescription = 10_000, MaxName = 200, MaxAttributesBytes = 16_384;

    public static Dictionary<string, string[]> Validate(
        string sku, string? title, string? description, string? category, string? brand, string? price, string? currency,
        string? available, string? attributes, out ItemFields fields)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message) => errors[field] = [message];

        if (!Sku.IsValid(sku))
            Error("sku", $"The SKU must be {Sku.Rule}.");
        if (string.IsNullOrWhiteSpace(title))
            Error("title", "The title is required.");
        else if (title.Length > MaxTitle)
            Error("title", $"The title is longer than {MaxTitle} characters.");
        if (description?.Length > MaxDescription)
            Error("description", $"The description is longer than {MaxDescription} characters.");
        if (category?.Length > MaxName)
            Error("category", $"The category is longer than {MaxName} characters.");
        if (brand?.Length > MaxName)
            Error("brand", $"The brand is longer than {MaxName} characters.");

        decimal? parsedPrice = null;
        if (!string.IsNullOrWhiteSpace(price))
        {
            if (decimal.TryParse(price, NumberStyles.Number, CultureInfo.InvariantCulture, out var p) && p >= 0 && p < 1_000_000_000_000m)
                parsedPrice = decimal.Round(p, 2);
            else
                Error("price", "The price must be a non-negative decimal number like 19.99.");
        }
        if (!string.IsNullOrWhiteSpace(currency) && !CurrencyPattern().IsMatch(currency))
            Error("currency", "The currency must be a three-letter ISO 4217 code like EUR.");

        var isAvailable = true;
        if (!string.IsNullOrWhiteSpace(available) && !bool.TryParse(available, out isAvailable))
            Error("available", "Available must be true or false.");

        var parsedAttributes = JsonDocument.Parse("{}").RootElement;
        if (!string.IsNullOrWhiteSpace(attributes))
        {
            if (attributes.Length > MaxAttributesBytes)
                Error("attributes", $"The attributes are longer than {MaxAttributesBytes} characters.");
            else
            {
                try
                {
                    parsedAttributes = JsonDocument.Parse(attributes).RootElement;
                    if (parsedAttributes.ValueKind != JsonValueKind.Object)
                        Error("attributes", "The attributes must be a JSON object, like {\"colour\": \"red\"}.");
                }
                catch (JsonException)
                {
                    Error("attributes", "The attributes are not valid JSON.");
                }
            }
        }

        fields = new ItemFields(title?.Trim() ?? "", Blank(description), Blank(category), Blank(brand), parsedPrice,
            Blank(currency)?.ToUpperInvariant(), isAvailable, parsedAttributes);
        return errors;
    }

    static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z]{3}$")]
    private static partial System.Text.RegularExpressions.Regex CurrencyPattern();
}
