using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Similarity.Catalog;
using Similarity.Embed;
using Similarity.Encoders;
using Similarity.Hosting;

namespace Similarity.Similar;

public static class SimilarApi
{
    public static IEndpointRouteBuilder MapSimilarApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/similar/{sku}", SimilarAsync)
            .WithName("Similar").WithTags("Similar")
            .WithSummary("The items most alike the given one, by cosine of the fused vectors (or by re-weighted image/text scores).")
            .WithDescription("The query item never appears in its own results. Filters apply inside the vector query. " +
                "Answers carry an ETag; send it back in If-None-Match for a 304 while the catalog is unchanged.")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/search", SearchAsync)
            .WithName("Search").WithTags("Similar")
            .WithSummary("Embeds a text and/or an image like an item, then searches the catalog with the same filters as /similar.")
            .DisableAntiforgery()
            .RequireEncoderCapacity()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return app;
    }

    /// <summary>Which score ordered the results: <c>fused</c> (cosine of the fused vectors) or <c>weighted</c>.</summary>
    public sealed record SimilarResponse(string? Sku, string RankedBy, IReadOnlyList<SimilarResult> Results);

    static async Task<Results<Ok<SimilarResponse>, StatusCodeHttpResult, ProblemHttpResult, ValidationProblem>> SimilarAsync(
        string sku, [AsParameters] SimilarQuery query, SimilarSearch search, EmbeddingPipeline pipeline, IOptions<SearchOptions> options,
        HttpContext http, CancellationToken ct)
    {
        var errors = query.Validate(out var k, out var filter, out var weights);
        if (!Sku.IsValid(sku))
            errors["sku"] = [$"The SKU must be {Sku.Rule}."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        filter = filter with { Exclude = [.. filter.Exclude, sku] };
        var request = SearchRequest.ForItem(sku, k, query.MinScore, filter, weights);
        var conditional = http.Request.Headers.IfNoneMatch.Count > 0;

        // A conditional request learns the revision first, so a 304 costs no search; any other goes in one round trip.
        var item = conditional ? await search.GetQueryItemAsync(sku, ct) : null;
        if (item is { Exists: false })
            return ItemsApi.NotFoundProblem(sku);
        if (item is not null && IfNoneMatchHas(http, SetCacheHeaders(http, item.Revision, pipeline.Fingerprint, options.Value)))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);

        var (searched, results) = await search.SearchAsync(request, withQueryItem: item is null, ct);
        if (item is null)
        {
            if (!searched!.Exists)
                return ItemsApi.NotFoundProblem(sku);
            SetCacheHeaders(http, searched.Revision, pipeline.Fingerprint, options.Value);
        }
        return TypedResults.Ok(new SimilarResponse(sku, weights is null ? "fused" : "weighted", results));
    }

    static async Task<Results<Ok<SimilarResponse>, ValidationProblem>> SearchAsync(
        [AsParameters] SimilarQuery query, IFormFile? image, [FromForm] string? text, SimilarSearch search, EmbeddingPipeline pipeline,
        IOptions<InputLimits> limits, CancellationToken ct)
    {
        var errors = query.Validate(out var k, out var filter, out var weights);
        if (text?.Length > limits.Value.MaxTextCharacters)
            errors["text"] = [$"The text has {text.Length} characters; the limit (Similarity:Limits:MaxTextCharacters) is {limits.Value.MaxTextCharacters}."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var bytes = image is { Length: > 0 } ? await FormFiles.ReadAsync(image, limits.Value.MaxImageBytes, "image", ct) : null;
        var fusion = (await pipeline.EmbedAsync(bytes, text, ct)).Fusion;
        VectorGuard.Check(fusion.Fused, bytes is null ? "text" : "image");
        var results = await search.SearchAsync(
            SearchRequest.ForVectors(fusion, k, query.MinScore, filter, weights), ct);
        return TypedResults.Ok(new SimilarResponse(null, weights is null ? "fused" : "weighted", results));
    }

    /// <summary>Sets the ETag and Cache-Control headers of the answer; returns the ETag.</summary>
    static string SetCacheHeaders(HttpContext http, long revision, string fingerprint, SearchOptions options)
    {
        var etag = ETagOf(revision, fingerprint, http.Request);
        http.Response.Headers.ETag = etag;
        http.Response.Headers.CacheControl = $"public, max-age={options.CacheMaxAgeSeconds}";
        return etag;
    }

    static bool IfNoneMatchHas(HttpContext http, string etag) =>
        http.Request.Headers.IfNoneMatch.Any(v => v is not null && v.Split(',').Select(t => t.Trim()).Any(t => t == etag || t == "*"));

    /// <summary>A weak ETag over the catalog revision, the model fingerprint and the request (path and query).</summary>
    static string ETagOf(long revision, string fingerprint, HttpRequest request)
    {
        var key = $"{revision}|{fingerprint}|{request.Path}|{request.QueryString}";
        return $"W/\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..20]}\"";
    }
}
