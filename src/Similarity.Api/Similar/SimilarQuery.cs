using Similarity.Catalog;

namespace Similarity.Similar;

/// <summary>Filters applied inside the vector query.</summary>
public sealed record SearchFilter(string? Category, string? Brand, decimal? PriceMin, decimal? PriceMax, bool? Available, string[] Exclude);

/// <summary>
/// What to search for and how to rank it: a stored item (<see cref="QuerySku"/>, whose vectors never leave the
/// database) or freshly embedded vectors. Weights null: rank by the fused vectors' cosine.
/// </summary>
public sealed record SearchRequest(
    string? QuerySku, float[]? Fused, float[]? Image, float[]? Text, int K, double? MinScore, SearchFilter Filter, double? ImageWeight, double? TextWeight)
{
    public bool Weighted => ImageWeight is not null;

    public static SearchRequest ForItem(string sku, int k, double? minScore, SearchFilter filter, (double Image, double Text)? weights) =>
        new(sku, null, null, null, k, minScore, filter, weights?.Image, weights?.Text);

    /// <summary>
    /// A query with one modality stands in for the other one too: both are projected into the fused space, so a
    /// text-only query weighted to images ranks items by how well their image matches the text (text → image).
    /// </summary>
    public static SearchRequest ForVectors(Similarity.Fusion.FusionResult fusion, int k, double? minScore, SearchFilter filter, (double Image, double Text)? weights) =>
        new(null, fusion.Fused, fusion.Image ?? fusion.Text, fusion.Text ?? fusion.Image, k, minScore, filter, weights?.Image, weights?.Text);
}

/// <summary>The query string of /similar/{sku} and /search, as bound; <see cref="Validate"/> turns it into a request.</summary>
public sealed record SimilarQuery(
    int? K, double? MinScore, string? Category, string? Brand, decimal? PriceMin, decimal? PriceMax, bool? Available,
    string? Exclude, double? ImageWeight, double? TextWeight)
{
    public const int DefaultK = 10, MaxK = 100, MaxExcluded = 100;

    public Dictionary<string, string[]> Validate(out int k, out SearchFilter filter, out (double Image, double Text)? weights)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message) => errors[field] = [message];

        k = K ?? DefaultK;
        if (k is < 1 or > MaxK)
            Error("k", $"k must be between 1 and {MaxK}.");
        if (MinScore is { } min && (!double.IsFinite(min) || min < -1 || min > 1))
            Error("minScore", "minScore must be between -1 and 1.");
        if (PriceMin < 0)
            Error("priceMin", "priceMin must not be negative.");
        if (PriceMax < 0)
            Error("priceMax", "priceMax must not be negative.");
        if (PriceMin > PriceMax)
            Error("priceMin", "priceMin must not exceed priceMax.");

        var excluded = (Exclude ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (excluded.Length > MaxExcluded)
            Error("exclude", $"exclude takes at most {MaxExcluded} SKUs.");
        else if (excluded.FirstOrDefault(s => !Sku.IsValid(s)) is { } bad)
            Error("exclude", $"'{bad}' is not a SKU ({Sku.Rule}).");

        weights = null;
        if (ImageWeight is not null || TextWeight is not null)
        {
            var image = ImageWeight ?? 0;
            var text = TextWeight ?? 0;
            if (!double.IsFinite(image) || image is < 0 or > 100)
                Error("imageWeight", "imageWeight must be between 0 and 100.");
            else if (!double.IsFinite(text) || text is < 0 or > 100)
                Error("textWeight", "textWeight must be between 0 and 100.");
            else if (image + text == 0)
                Error("imageWeight", "imageWeight and textWeight cannot both be 0.");
            else
                weights = (image, text);
        }
        filter = new SearchFilter(Blank(Category), Blank(Brand), PriceMin, PriceMax, Available, excluded);
        return errors;
    }

    static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
