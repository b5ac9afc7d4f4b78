using Microsoft.AspNetCore.Mvc;
using Similarity.Catalog;
using Similarity.Feedback;
using Similarity.Hosting;

namespace Similarity.Similar;

/// <summary>Filters applied inside the vector query.</summary>
public sealed record SearchFilter(string? Category, string? Brand, decimal? PriceMin, decimal? PriceMax, bool? Available, string[] Exclude);

/// <summary>
/// How many results, cut at which score, under which filters, ranked by which weights (null: by the fused cosine),
/// with which optional fields of each result (<see cref="ResultFields"/>), chosen how (<see cref="RankingOptions"/>), and
/// whether a page left short by the filters is filled from the query item's category (<see cref="Fallback"/>).
/// <see cref="Blend"/>: the weight of co-engagement added to each result's score (0: by content alone).
/// </summary>
public sealed record SearchCriteria(int K, double? MinScore, SearchFilter Filter, double? ImageWeight, double? TextWeight, ResultFields Fields = ResultFields.None,
    RankingOptions? RankingChoice = null, bool Fallback = false, double Blend = 0)
{
    /// <summary>The ranking options of the request (<see cref="RankingOptions.None"/> when it gives none).</summary>
    public RankingOptions Ranking => RankingChoice ?? RankingOptions.None;
}

/// <summary>Fields a result carries only when asked (<c>fields=attributes,description</c>): they are larger than the rest.</summary>
[Flags]
public enum ResultFields { None = 0, Attributes = 1, Description = 2 }

/// <summary>
/// What to search for and how to rank it: a stored item (<see cref="QuerySku"/>, whose vectors never leave the
/// database) or freshly embedded vectors. <see cref="CategoryOfQuery"/>: only items of the query item's category (a fallback).
/// </summary>
public sealed record SearchRequest(string? QuerySku, float[]? Fused, float[]? Image, float[]? Text, SearchCriteria Criteria, bool CategoryOfQuery = false)
{
    public int K => Criteria.K;
    public SearchFilter Filter => Criteria.Filter;
    public bool Weighted => Criteria.ImageWeight is not null;

    public static SearchRequest ForItem(string sku, SearchCriteria criteria) =>
        new(sku, null, null, null, criteria with { Filter = criteria.Filter with { Exclude = [.. criteria.Filter.Exclude, sku] } });

    /// <summary>
    /// A query with one modality stands in for the other one too: both are projected into the fused space, so a
    /// text-only query weighted to images ranks items by how well their image matches the text (text → image).
    /// </summary>
    public static SearchRequest ForVectors(Similarity.Fusion.FusionResult fusion, SearchCriteria criteria) =>
        new(null, fusion.Fused, fusion.Image ?? fusion.Text, fusion.Text ?? fusion.Image, criteria);
}

/// <summary>The query string of /similar/{sku} and /search, as bound; <see cref="Validate"/> turns it into criteria.</summary>
public sealed record SimilarQuery(
    [FromQuery(Name = "k")] int? K,
    [FromQuery(Name = "minScore")] double? MinScore,
    [FromQuery(Name = "category")] string? Category,
    [FromQuery(Name = "brand")] string? Brand,
    [FromQuery(Name = "priceMin")] decimal? PriceMin,
    [FromQuery(Name = "priceMax")] decimal? PriceMax,
    [FromQuery(Name = "available")] bool? Available,
    [FromQuery(Name = "exclude")] string? Exclude,
    [FromQuery(Name = "imageWeight")] double? ImageWeight,
    [FromQuery(Name = "textWeight")] double? TextWeight,
    [FromQuery(Name = "fields")] string? Fields = null,
    [FromQuery(Name = "diversity")] double? Diversity = null,
    [FromQuery(Name = "maxPerCategory")] int? MaxPerCategory = null,
    [FromQuery(Name = "maxPerBrand")] int? MaxPerBrand = null,
    [FromQuery(Name = "boostAvailable")] double? BoostAvailable = null,
    [FromQuery(Name = "fallback")] string? Fallback = null,
    [FromQuery(Name = "blend")] double? Blend = null,
    [FromQuery(Name = "visitorId")] string? VisitorId = null,
    [FromHeader(Name = VisitorIds.HeaderName)] string? VisitorHeader = null)
{
    /// <summary>The visitor the caller named (the query parameter, else the header), recorded with the served list.</summary>
    public string? Visitor => VisitorId ?? VisitorHeader;

    public const int DefaultK = 10, MaxK = 100, MaxExcluded = 100;
    public const double MaxBlend = 10;

    /// <summary>The criteria; <paramref name="defaultBlend"/>: the blend when the query gives none, null on a route that does not blend.</summary>
    public Validated<SearchCriteria> Validate(double? defaultBlend = null)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message) => errors[field] = [message];

        var k = K ?? DefaultK;
        if (k is < 1 or > MaxK)
            Error("k", $"k must be between 1 and {MaxK}.");
        if (MinScore is { } min && (!double.IsFinite(min) || min < -1 || min > 1))
            Error("minScore", "minScore must be between -1 and 1.");
        // The filters are held to the same rules as the fields they compare with: a NUL is a 400, not a database error.
        if (FieldRules.TextProblem("category", Category, ItemInput.MaxName) is { } category)
            Error("category", category);
        if (FieldRules.TextProblem("brand", Brand, ItemInput.MaxName) is { } brand)
            Error("brand", brand);
        if (PriceMin < 0)
            Error("priceMin", "priceMin must not be negative.");
        if (PriceMax < 0)
            Error("priceMax", "priceMax must not be negative.");
        if (PriceMin > PriceMax)
            Error("priceMin", "priceMin must not exceed priceMax.");

        var (excluded, excludeError) = Sku.ParseList(Exclude, "exclude", MaxExcluded);
        if (excludeError is not null)
            Error("exclude", excludeError);

        (double Image, double Text)? weights = null;
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
        var fields = ResultFields.None;
        foreach (var name in (Fields ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Enum.TryParse<ResultFields>(name, ignoreCase: true, out var field) && field != ResultFields.None)
                fields |= field;
            else
                Error("fields", $"'{FieldRules.Quote(name)}' is not an optional field: fields takes attributes, description.");
        }
        if (Diversity is { } diversity && (!double.IsFinite(diversity) || diversity is < 0 or > 1))
            Error("diversity", "diversity must be between 0 (by score alone) and 1.");
        if (MaxPerCategory is < 1 or > MaxK)
            Error("maxPerCategory", $"maxPerCategory must be between 1 and {MaxK}.");
        if (MaxPerBrand is < 1 or > MaxK)
            Error("maxPerBrand", $"maxPerBrand must be between 1 and {MaxK}.");
        if (BoostAvailable is { } boost && (!double.IsFinite(boost) || boost is < 0 or > 1))
            Error("boostAvailable", "boostAvailable must be between 0 and 1.");
        if (Fallback is not (null or "none" or "category"))
            Error("fallback", $"'{FieldRules.Quote(Fallback)}' is not a fallback: fallback takes none or category.");
        if (Blend is not null && defaultBlend is null)
            Error("blend", "blend applies to an item's page: GET /similar/{sku} and POST /similar/batch.");
        else if (Blend is { } b && (!double.IsFinite(b) || b is < 0 or > MaxBlend))
            Error("blend", $"blend must be between 0 (content alone) and {MaxBlend}.");
        if (VisitorIds.Problem("visitorId", Visitor) is { } visitor)
            Error("visitorId", visitor);
        if (errors.Count > 0)
            return Validated<SearchCriteria>.Invalid(errors);
        var filter = new SearchFilter(Blank(Category), Blank(Brand), PriceMin, PriceMax, Available, excluded);
        var ranking = new RankingOptions(Diversity ?? 0, MaxPerCategory, MaxPerBrand, BoostAvailable ?? 0);
        return Validated<SearchCriteria>.Valid(new SearchCriteria(k, MinScore, filter, weights?.Image, weights?.Text, fields,
            ranking.ReRanks ? ranking : null, Fallback == "category", Blend ?? defaultBlend ?? 0));
    }

    static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
