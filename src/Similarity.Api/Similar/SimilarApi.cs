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
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        app.MapPost("/similar/batch", BatchAsync)
            .WithName("SimilarBatch").WithTags("Similar")
            .WithSummary("The similar items of up to 100 SKUs at once, with the same parameters as GET /similar/{sku}: a product list's worth in one call.")
            .WithDescription("JSON body {\"skus\": [\"a\", \"b\"]}. Each SKU answers on its own: status 200 with its results, 404 (no such item) " +
                "or 409 (embedded by another model set) with an error. The searches run in one or two database round trips.");
        app.MapPost("/search", SearchAsync)
            .WithName("Search").WithTags("Similar")
            .WithSummary("Embeds a text and/or an image like an item, then searches the catalog with the same filters as /similar.")
            .WithDescription("Multipart `text` and/or `image`. With one modality, imageWeight/textWeight re-rank by how well items' pictures " +
                "(or texts) match it: text → image search is text with imageWeight=1&textWeight=0.")
            .DisableAntiforgery()
            .RequireEncoderCapacity()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return app;
    }

    /// <summary>Which score ordered the results: <c>fused</c> (cosine of the fused vectors) or <c>weighted</c>.</summary>
    public sealed record SimilarResponse(string? Sku, string RankedBy, IReadOnlyList<SimilarResult> Results);

    public sealed record SimilarBatchRequest(string[]? Skus);

    public sealed record SimilarBatchResponse(string RankedBy, IReadOnlyList<BatchEntry> Items);

    public const int MaxBatch = 100;

    static async Task<Results<Ok<SimilarBatchResponse>, ValidationProblem>> BatchAsync(
        [AsParameters] SimilarQuery query, SimilarBatchRequest? body, SimilarSearch search, CancellationToken ct)
    {
        var criteria = query.Validate();
        var skus = body?.Skus ?? [];
        if (skus.Length is 0 or > MaxBatch)
            criteria.Errors["skus"] = [$"Send 1 to {MaxBatch} SKUs as {{\"skus\": [\"a\", \"b\"]}}."];
        else if (skus.Select((sku, i) => (sku, i)).FirstOrDefault(s => !Sku.IsValid(s.sku)) is { sku: not null } bad)
            criteria.Errors[$"skus[{bad.i}]"] = [$"'{FieldRules.Storable(bad.sku, 100)}' is not a SKU ({Sku.Rule})."];
        else if (skus.Any(s => s is null))
            criteria.Errors["skus"] = ["A SKU is null."];
        if (criteria.Errors.Count > 0)
            return TypedResults.ValidationProblem(criteria.Errors);
        var entries = await search.SearchManyAsync(skus, criteria.Value!, ct);
        return TypedResults.Ok(new SimilarBatchResponse(criteria.Value!.ImageWeight is null ? "fused" : "weighted", entries));
    }

    static async Task<Results<Ok<SimilarResponse>, StatusCodeHttpResult, ProblemHttpResult, ValidationProblem>> SimilarAsync(
        string sku, [AsParameters] SimilarQuery query, SimilarSearch search, EmbeddingPipeline pipeline, IOptions<SearchOptions> options,
        HttpContext http, CancellationToken ct)
    {
        var criteria = query.Validate();
        if (!Sku.IsValid(sku))
            criteria.Errors["sku"] = [$"The SKU must be {Sku.Rule}."];
        if (criteria.Errors.Count > 0)
            return TypedResults.ValidationProblem(criteria.Errors);

        var request = SearchRequest.ForItem(sku, criteria.Value!);
        var conditional = http.Request.Headers.IfNoneMatch.Count > 0;

        // A conditional request learns the revision first, so a 304 costs no search; any other goes in one round trip.
        var item = conditional ? await search.GetQueryItemAsync(sku, ct) : null;
        if (item is not null && Refusal(sku, item, pipeline) is { } refusedFirst)
            return refusedFirst;
        if (item is not null && http.Request.IfNoneMatchHas(SetCacheHeaders(http, item.Revision, pipeline.Fingerprint, options.Value)))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);

        var (searched, results) = await search.SearchAsync(request, withQueryItem: item is null, ct);
        if (item is null)
        {
            if (Refusal(sku, searched!, pipeline) is { } refused)
                return refused;
            SetCacheHeaders(http, searched!.Revision, pipeline.Fingerprint, options.Value);
        }
        return TypedResults.Ok(new SimilarResponse(sku, request.Weighted ? "weighted" : "fused", results));
    }

    /// <summary>404 for a missing item; 409 for one whose vectors another model set made: its cosines would compare two spaces.</summary>
    static ProblemHttpResult? Refusal(string sku, QueryItem item, EmbeddingPipeline pipeline) =>
        !item.Exists ? ItemsApi.NotFoundProblem(sku)
        : !item.Current ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The item was embedded by another model set.",
            detail: $"Item '{sku}' has vectors from a model set other than the live one ({pipeline.Fingerprint}); send it again " +
                "(PUT /items/{sku} or an import) to re-embed it, then ask again.")
        : null;

    static async Task<Results<Ok<SimilarResponse>, ValidationProblem>> SearchAsync(
        [AsParameters] SimilarQuery query, IFormFile? image, [FromForm] string? text, SimilarSearch search, EmbeddingPipeline pipeline,
        IOptions<InputLimits> limits, CancellationToken ct)
    {
        var criteria = query.Validate();
        if (FieldRules.TextProblem("text", text, limits.Value.MaxTextCharacters) is { } textProblem)
            criteria.Errors["text"] = [textProblem];
        if (criteria.Value?.Fallback == true)
            criteria.Errors["fallback"] = ["fallback=category fills an item's page from its category: a search has no item (use GET /similar/{sku})."];
        if (criteria.Errors.Count > 0)
            return TypedResults.ValidationProblem(criteria.Errors);

        var bytes = image is { Length: > 0 } ? await FormFiles.ReadAsync(image, limits.Value.MaxImageBytes, "image", ct) : null;
        var fusion = (await pipeline.EmbedAsync(bytes, text, ct)).Fusion;
        VectorGuard.Check(fusion.Fused, bytes is null ? "text" : "image");
        var request = SearchRequest.ForVectors(fusion, criteria.Value!);
        var results = await search.SearchAsync(request, ct);
        return TypedResults.Ok(new SimilarResponse(null, request.Weighted ? "weighted" : "fused", results));
    }

    /// <summary>Sets the ETag and Cache-Control headers of the answer; returns the ETag.</summary>
    static string SetCacheHeaders(HttpContext http, long revision, string fingerprint, SearchOptions options)
    {
        var etag = ETagOf(revision, fingerprint, http.Request);
        http.Response.Headers.ETag = etag;
        http.Response.Headers.CacheControl = $"public, max-age={options.CacheMaxAgeSeconds}";
        return etag;
    }

    /// <summary>A weak ETag over the catalog revision, the model fingerprint and the request (path and query).</summary>
    static string ETagOf(long revision, string fingerprint, HttpRequest request)
    {
        var key = $"{revision}|{fingerprint}|{request.Path}|{request.QueryString}";
        return $"W/\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..20]}\"";
    }
}
