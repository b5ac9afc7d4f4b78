using System.Text.Json;
using System.Text.RegularExpressions;
using Similarity.Hosting;

namespace Similarity.Catalog;

/// <summary>
/// One item as a client sends it — PUT /items/{sku}'s form or one import row — every field still a string.
/// <see cref="Validate"/> is the one validation of both.
/// </summary>
public sealed partial record ItemInput(
    string? Sku, string? Title, string? Description, string? Category, string? Brand, string? Price, string? Currency,
    string? Available, string? Attributes, string? ImageUrl = null)
{
    public const int MaxTitle = 500, MaxDescription = 10_000, MaxName = 200, MaxAttributesCharacters = 16_384, MaxImageUrl = 2_000;

    static readonly JsonElement NoAttributes = JsonElement.Parse("{}");

    /// <summary>
    /// The fields to store, or errors naming each field at fault. It covers every rule of the items table
    /// (the SKU's CHECK, the title's NOT NULL, the price's CHECKs — below 10^14, at most 4 decimals, not negative —
    /// the image URL's CHECK, text and jsonb without NUL or lone surrogates), so a valid item is never refused by
    /// the database.
    /// </summary>
    public Validated<ItemFields> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        void Check(string field, string? problem)
        {
            if (problem is not null)
                errors[field] = [problem];
        }

        Check("sku", Catalog.Sku.IsValid(Sku) ? null : $"The SKU must be {Catalog.Sku.Rule}.");
        Check("title", string.IsNullOrWhiteSpace(Title) ? "The title is required." : FieldRules.TextProblem("title", Title, MaxTitle));
        Check("description", FieldRules.TextProblem("description", Description, MaxDescription));
        Check("category", FieldRules.TextProblem("category", Category, MaxName));
        Check("brand", FieldRules.TextProblem("brand", Brand, MaxName));

        var currency = Blank(Currency);
        if (currency is not null && !CurrencyPattern().IsMatch(currency))
            Check("currency", "The currency must be a three-letter ISO 4217 code like EUR.");

        // Exactly as written, to the currency's minor units: never rounded.
        decimal? price = null;
        if (!string.IsNullOrWhiteSpace(Price))
        {
            price = Money.Parse(Price, errors.ContainsKey("currency") ? null : currency, out var priceProblem);
            Check("price", priceProblem is null ? null : $"The price {priceProblem}");
        }

        var imageUrl = Blank(ImageUrl);
        if (FieldRules.TextProblem("imageUrl", imageUrl, MaxImageUrl) is { } urlProblem)
            Check("imageUrl", urlProblem);
        else if (imageUrl is not null)
        {
            imageUrl = WebAddress(imageUrl);
            if (imageUrl is null)
                Check("imageUrl", "The imageUrl must be an absolute http or https address, like https://shop.example/hat.jpg.");
        }

        var available = true;
        if (!string.IsNullOrWhiteSpace(Available) && !bool.TryParse(Available, out available))
            Check("available", "Available must be true or false.");

        var attributes = NoAttributes;
        if (!string.IsNullOrWhiteSpace(Attributes))
        {
            if (FieldRules.TextProblem("attributes", Attributes, MaxAttributesCharacters) is { } problem)
                Check("attributes", problem);
            else if (ParseObject(Attributes) is not { } parsed)
                Check("attributes", "The attributes must be a JSON object, like {\"colour\": \"red\"}.");
            else if (FieldRules.JsonProblem("attributes", parsed) is { } jsonProblem)
                Check("attributes", jsonProblem);
            else
                attributes = parsed;
        }

        return errors.Count > 0
            ? Validated<ItemFields>.Invalid(errors)
            : Validated<ItemFields>.Valid(new ItemFields(Title!.Trim(), Blank(Description), Blank(Category), Blank(Brand), price,
                currency?.ToUpperInvariant(), available, attributes, imageUrl));
    }

    static JsonElement? ParseObject(string json)
    {
        try
        {
            return JsonElement.Parse(json) is { ValueKind: JsonValueKind.Object } parsed ? parsed : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>
    /// The address with its scheme in lower case, or null when it is no absolute http(s) address written with "://".
    /// The items table's CHECK is '^https?://', case-sensitive: "HTTPS://x" is a valid address that it would refuse,
    /// and .NET's Uri also takes "http:x" or "http:\\x", which it refuses too.
    /// </summary>
    static string? WebAddress(string url)
    {
        if (WebScheme().Match(url) is not { Success: true } scheme
            || !Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            return null;
        return scheme.Value.ToLowerInvariant() + url[scheme.Length..];
    }

    // Letter by letter, not IgnoreCase: case-insensitive matching would also take look-alikes such as U+017F (ſ).
    [GeneratedRegex("^[Hh][Tt][Tt][Pp][Ss]?://")]
    private static partial Regex WebScheme();

    // \z, not $: .NET's $ also matches before a final newline.
    [GeneratedRegex(@"^[A-Za-z]{3}\z")]
    private static partial Regex CurrencyPattern();
}
