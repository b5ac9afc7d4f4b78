using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Similarity.Catalog;
using Similarity.Encoders;
using Similarity.Feedback;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Similar;

/// <summary>
/// <c>GET /search?q=</c>: a storefront's search box, cacheable (ETag over the catalog revision, the model set and the
/// query), with /similar's filters and <c>k</c> and a <c>mode</c>; and the answer that it and the multipart
/// <c>POST /search</c> share: the text's typos corrected, embedded, then searched by vectors, words or both.
/// </summary>
public static class SearchApi
{
    public static IEndpointRouteBuilder MapSearchApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/search", SearchGetAsync)
            .WithName("SearchText").WithTags("Similar")
            .WithSummary("Searches the catalog for a text, as a storefront's search box does: words and vectors together, typos corrected.")
            .WithDescription("`q`: the text. `mode`: hybrid (default: the lexical and vector lists fused by reciprocal rank), vector " +
                "(the text's embedding alone, as POST /search did) or lexical (the words alone). Words missing from the catalog are " +
                "corrected to the nearest catalog word (one edit from 4 letters, two from 8); `corrections` names each. Takes the " +
                "filters, `k` and ranking parameters of GET /similar/{sku} but `fallback`. Answers carry an ETag; send it back in " +
                "If-None-Match for a 304 while the catalog is unchanged.")
            .RequireEncoderCapacity()
            .Produces(StatusCodes.Status304NotModified);
        return app;
    }

    /// <summary>The mode a text search takes when the request names none (<c>Similarity:Search:TextMode</c>).</summary>
    public static RetrievalMode DefaultTextMode(SearchOptions options) => HybridQuery.Parse(options.TextMode) ?? RetrievalMode.Hybrid;

    static async Task<Results<Ok<SimilarApi.SimilarResponse>, StatusCodeHttpResult, ValidationProblem>> SearchGetAsync(
        [FromQuery(Name = "q")] string? q, [AsParameters] SimilarQuery query, [AsParameters] HybridQuery hybrid, SimilarSearch search,
        HybridSearch hybridSearch, ModelSets models, IOptions<InputLimits> limits, IOptions<SearchOptions> options, ServedLog served, HttpContext http,
        CancellationToken ct)
    {
        var criteria = query.Validate();
        if (string.IsNullOrWhiteSpace(q))
            criteria.Errors["q"] = ["q, the text to search for, is required."];
        else if (FieldRules.TextProblem("q", q, limits.Value.MaxTextCharacters) is { } textProblem)
            criteria.Errors["q"] = [textProblem];
        if (criteria.Value?.Fallback == true)
            criteria.Errors["fallback"] = ["fallback=category fills an item's page from its category: a search has no item (use GET /similar/{sku})."];
        var choice = hybrid.Validate(criteria.Errors, DefaultTextMode(options.Value), options.Value.LexicalWeight);
        if (criteria.Errors.Count > 0)
            return TypedResults.ValidationProblem(criteria.Errors);

        // The revision (and the words) first, so a 304 costs no model run.
        var (revision, words) = await hybridSearch.ReadWordsAsync(choice!.Mode == RetrievalMode.Vector ? null : q, ct);
        if (http.Request.IfNoneMatchHas(SimilarApi.SetCacheHeaders(http, revision, models.Live.Pipeline.Fingerprint, options.Value)))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        var answer = await AnswerAsync(q, null, criteria.Value!, choice, words, search, hybridSearch, models, ct);
        return TypedResults.Ok(answer with { RequestId = SimilarApi.Serve(http, served, "search", query.Visitor, models.Live.Fingerprint, [(null, answer.Results)]) });
    }

    /// <summary>
    /// Embeds the text (its corrections made) and/or the image, then searches: by the vectors alone for
    /// <see cref="RetrievalMode.Vector"/> or without a text, else by <see cref="HybridSearch"/>.
    /// </summary>
    internal static async Task<SimilarApi.SimilarResponse> AnswerAsync(string? text, byte[]? image, SearchCriteria criteria, HybridChoice choice,
        LexicalQuery words, SimilarSearch search, HybridSearch hybrid, ModelSets models, CancellationToken ct)
    {
        var embedded = text is null ? null : words.Corrected(text);
        // Embedded before the read lock, so a switch never waits for a model run; again, in the rare case one came between.
        var embeddedBy = models.Live;
        var fusion = (await embeddedBy.Pipeline.EmbedAsync(image, embedded, ct)).Fusion;
        using var _ = await models.ReadLockAsync(ct);
        if (models.Live != embeddedBy)
            fusion = (await models.Live.Pipeline.EmbedAsync(image, embedded, ct)).Fusion;
        VectorGuard.Check(fusion.Fused, image is null ? "text" : "image");
        var request = SearchRequest.ForVectors(fusion, criteria);
        if (choice.Mode == RetrievalMode.Vector || string.IsNullOrWhiteSpace(text))
            return new(null, request.Weighted ? "weighted" : "fused", await search.SearchAsync(request, ct));
        var (_, results, source) = await hybrid.SearchAsync(request, words, choice, withQueryItem: false, ct);
        return new(null, choice.RankedBy(request.Weighted), results, source, words.Corrections);
    }
}
