using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Similarity.Catalog;
using Similarity.Encoders;
using Similarity.Feedback;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Similar;

/// <summary>One SKU's answer in a batch: its results, or why there are none (404: no such item, 409: another model set's).</summary>
public sealed record BatchEntry(string Sku, int Status, IReadOnlyList<SimilarResult> Results, string? Error);

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
        app.MapPost("/similar", ExamplesAsync)
            .WithName("SimilarToExamples").WithTags("Similar")
            .WithSummary("Items like several examples and unlike others: \"more like these, less like that\" for wish lists and carts.")
            .WithDescription("JSON body: `positive` (1–20 SKUs), `negative` (0–20), `weights` (SKU → weight, 1 by default) and `strategy`: " +
                "`average` ranks by cosine to the normalised weighted sum of the positives' vectors minus the negatives'; `bestScore` ranks " +
                "each candidate by its best weighted score against a positive minus its best against a negative (then `score` is that). " +
                "Takes the query parameters of GET /similar/{sku} but `fallback`; the examples never appear in the results, and those " +
                "with no item are listed in `missing` (404 when no positive one exists).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        app.MapPost("/search", SearchAsync)
            .WithName("Search").WithTags("Similar")
            .WithSummary("Embeds a text and/or an image like an item, then searches the catalog with the same filters as /similar.")
            .WithDescription("Multipart `text` and/or `image`. A text is searched by words and vectors together (`mode`, as GET /search). With one modality, imageWeight/textWeight re-rank by how well items' pictures " +
                "(or texts) match it: text → image search is text with imageWeight=1&textWeight=0.")
            .DisableAntiforgery()
            .RequireEncoderCapacity()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        app.MapSearchApi();
        return app;
    }

    /// <summary>
    /// Which score ordered the results: <c>fused</c> (cosine of the fused vectors) or <c>weighted</c>; and where they came
    /// from: <c>precomputed</c> (the item's neighbour list) or <c>live</c> (an index search).
    /// </summary>
    public sealed record SimilarResponse(string? Sku, string RankedBy, IReadOnlyList<SimilarResult> Results, string Source = ResultSource.IndexSearch,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        IReadOnlyList<TypoCorrection>? Corrections = null)
    {
        /// <summary>This answer's id (a UUIDv7, also in <c>X-Request-Id</c>): events about its results name it.</summary>
        public Guid RequestId { get; init; }

        /// <summary>An index search's page shorter than k because nothing more passes the filters, caps and rules (absent on other paths).</summary>
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public bool? Exhausted { get; init; }

        /// <summary>
        /// An index search's page shorter than k because the search reached its bound on the work
        /// (<c>Similarity:Search:MaxCandidates</c>) before k results passed the caps (absent on other paths).
        /// </summary>
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public bool? StoppedEarly { get; init; }
    }

    public sealed record SimilarBatchRequest(string[]? Skus);

    public sealed record SimilarBatchResponse(string RankedBy, IReadOnlyList<BatchEntry> Items)
    {
        /// <summary>This answer's id (a UUIDv7, also in <c>X-Request-Id</c>), shared by its SKUs' lists.</summary>
        public Guid RequestId { get; init; }
    }

    public const int MaxBatch = 100;

    static async Task<Results<Ok<SimilarBatchResponse>, ValidationProblem>> BatchAsync(
        [AsParameters] SimilarQuery query, SimilarBatchRequest? body, SimilarSearch search, ModelSets models, IOptions<FeedbackOptions> feedback,
        ServedLog served, HttpContext http, CancellationToken ct)
    {
        var criteria = query.Validate(feedback.Value.Blend);
        var skus = body?.Skus ?? [];
        if (skus.Length is 0 or > MaxBatch)
            criteria.Errors["skus"] = [$"Send 1 to {MaxBatch} SKUs as {{\"skus\": [\"a\", \"b\"]}}."];
        else if (skus.Select((sku, i) => (sku, i)).FirstOrDefault(s => !Sku.IsValid(s.sku)) is { sku: not null } bad)
            criteria.Errors[$"skus[{bad.i}]"] = [$"'{FieldRules.Quote(bad.sku)}' is not a SKU ({Sku.Rule})."];
        else if (skus.Any(s => s is null))
            criteria.Errors["skus"] = ["A SKU is null."];
        if (criteria.Errors.Count > 0)
            return TypedResults.ValidationProblem(criteria.Errors);
        using var _ = await models.ReadLockAsync(ct);
        var answers = await search.SearchManyAsync(skus, criteria.Value!, ct);
        var requestId = Serve(http, served, "batch", query.Visitor, models.Live.Fingerprint,
            [.. answers.Where(a => a.State == QueryItemState.Current).Select(a => (a.Sku, a.Results))]);
        return TypedResults.Ok(new SimilarBatchResponse(criteria.Value!.ImageWeight is null ? "fused" : "weighted", [.. answers.Select(EntryOf)]) { RequestId = requestId });
    }

    /// <summary>A batch SKU's entry: 200 with its results, 404 (no such item) or 409 (another model set's) with why.</summary>
    static BatchEntry EntryOf(BatchAnswer answer) => answer.State switch
    {
        QueryItemState.Missing => new(answer.Sku, StatusCodes.Status404NotFound, [], $"There is no item with SKU '{answer.Sku}'."),
        QueryItemState.OtherModelSet => new(answer.Sku, StatusCodes.Status409Conflict, [],
            $"Item '{answer.Sku}' has vectors from a model set other than the live one; re-embed it."),
        _ => new(answer.Sku, StatusCodes.Status200OK, answer.Results, null),
    };

    static async Task<Results<Ok<SimilarResponse>, StatusCodeHttpResult, ProblemHttpResult, ValidationProblem>> SimilarAsync(
        string sku, [AsParameters] SimilarQuery query, [AsParameters] HybridQuery hybrid, SimilarSearch search, HybridSearch hybridSearch,
        ModelSets models, ModelSetFollower follower, IOptions<SearchOptions> options, IOptions<FeedbackOptions> feedback, Exploration exploration,
        Interleaving interleaving, ServedLog served, HttpContext http, CancellationToken ct)
    {
        var answer = await AnswerAsync(sku, query, hybrid, search, hybridSearch, models, options, feedback, exploration, interleaving, served, http, ct);
        if (answer.Result is not ProblemHttpResult { StatusCode: StatusCodes.Status409Conflict })
            return answer;
        // Another instance may have switched the live set a moment ago: this one catches up with the database (outside
        // the read lock) and asks once more, so a switch elsewhere is never a refused page here.
        await follower.FollowAsync(ct);
        return await AnswerAsync(sku, query, hybrid, search, hybridSearch, models, options, feedback, exploration, interleaving, served, http, ct);
    }

    static async Task<Results<Ok<SimilarResponse>, StatusCodeHttpResult, ProblemHttpResult, ValidationProblem>> AnswerAsync(
        string sku, SimilarQuery query, HybridQuery hybrid, SimilarSearch search, HybridSearch hybridSearch,
        ModelSets models, IOptions<SearchOptions> options, IOptions<FeedbackOptions> feedback, Exploration exploration, Interleaving interleaving,
        ServedLog served, HttpContext http, CancellationToken ct)
    {
        var criteria = query.Validate(feedback.Value.Blend);
        var choice = hybrid.Validate(criteria.Errors, RetrievalMode.Vector, options.Value.ItemLexicalWeight);
        if (!Sku.IsValid(sku))
            criteria.Errors["sku"] = [$"The SKU must be {Sku.Rule}."];
        if (criteria.Errors.Count > 0)
            return TypedResults.ValidationProblem(criteria.Errors);

        var request = SearchRequest.ForItem(sku, criteria.Value!);
        // One model set answers, whole: a switch waits for this request, or this request for the switch.
        using var _ = await models.ReadLockAsync(ct);
        var pipeline = models.Live.Pipeline;
        var conditional = http.Request.Headers.IfNoneMatch.Count > 0;

        // A conditional request learns the revision first, so a 304 costs no search; any other goes in one round trip.
        var item = conditional ? await search.GetQueryItemAsync(sku, ct) : null;
        if (item is not null && Refusal(sku, item, pipeline) is { } refusedFirst)
            return refusedFirst;
        if (item is not null && http.Request.IfNoneMatchHas(SetCacheHeaders(http, item.Revision, pipeline.Fingerprint, options.Value)))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);

        var (searched, results, source) = choice!.Mode == RetrievalMode.Vector
            ? await search.SearchAsync(request, withQueryItem: item is null, ct)
            : await hybridSearch.SearchAsync(request, query: null, choice, withQueryItem: item is null, ct);
        if (item is null)
        {
            if (Refusal(sku, searched!, pipeline) is { } refused)
                return refused;
            SetCacheHeaders(http, searched!.Revision, pipeline.Fingerprint, options.Value);
        }
        // On an experiment's share of answers, both of its sides rank the item and the page interleaves them; the
        // position-bias swap stays out of those, whose teams are credited by position.
        var reach = results as ResultPage;
        var requestId = ServedLog.NewRequestId();
        var interleaved = await interleaving.TryAsync(request, requestId, query.Visitor, ct);
        results = interleaved is not null ? interleaved.Results : exploration.Explore(http, results, r => !r.Pinned);
        Serve(http, served, "similar", query.Visitor, pipeline.Fingerprint, [(sku, results)], requestId, interleaved);
        return TypedResults.Ok(new SimilarResponse(sku, choice.RankedBy(request.Weighted), results, source)
            { RequestId = requestId, Exhausted = interleaved is null ? reach?.Exhausted : null, StoppedEarly = interleaved is null ? reach?.StoppedEarly : null });
    }

    public const int MaxExamples = 20;

    public sealed record SimilarExamplesRequest(string[]? Positive, string[]? Negative, Dictionary<string, double>? Weights, string? Strategy);

    /// <summary>The answer to several examples: how they were combined, which had no item, and the results.</summary>
    public sealed record SimilarExamplesResponse(string Strategy, string RankedBy, IReadOnlyList<string> Missing, IReadOnlyList<SimilarResult> Results)
    {
        /// <summary>This answer's id (a UUIDv7, also in <c>X-Request-Id</c>): events about its results name it.</summary>
        public Guid RequestId { get; init; }
    }

    static async Task<Results<Ok<SimilarExamplesResponse>, ProblemHttpResult, ValidationProblem>> ExamplesAsync(
        [AsParameters] SimilarQuery query, SimilarExamplesRequest? body, SimilarSearch search, ModelSets models, ServedLog served,
        HttpContext http, CancellationToken ct)
    {
        var criteria = query.Validate();
        var errors = criteria.Errors;
        if (criteria.Value?.Fallback == true)
            errors["fallback"] = ["fallback=category fills an item's page from its category: use it with GET /similar/{sku}."];
        string[] positive = body?.Positive ?? [], negative = body?.Negative ?? [];
        void Skus(string field, string[] skus, int min)
        {
            if (skus.Length < min || skus.Length > MaxExamples)
                errors[field] = [$"Send {min} to {MaxExamples} SKUs in {field}."];
            else if (Array.FindIndex(skus, sku => !Sku.IsValid(sku)) is var at and >= 0)
                errors[$"{field}[{at}]"] = [$"'{FieldRules.Quote(skus[at] ?? "null")}' is not a SKU ({Sku.Rule})."];
        }
        Skus("positive", positive, 1);
        Skus("negative", negative, 0);
        if (positive.Intersect(negative, StringComparer.Ordinal).FirstOrDefault() is { } both)
            errors["negative"] = [$"'{both}' is both a positive and a negative example."];
        var weights = body?.Weights ?? [];
        if (weights.FirstOrDefault(w => !positive.Contains(w.Key) && !negative.Contains(w.Key)) is { Key: { } stray })
            errors["weights"] = [$"'{FieldRules.Quote(stray)}' is not one of the examples."];
        else if (weights.FirstOrDefault(w => !double.IsFinite(w.Value) || w.Value is <= 0 or > 100) is { Key: { } badWeight })
            errors[$"weights.{badWeight}"] = ["A weight must be above 0 and at most 100."];
        ExampleStrategy? strategy = body?.Strategy switch { null or "average" => ExampleStrategy.Average, "bestScore" => ExampleStrategy.BestScore, _ => null };
        if (strategy is null)
            errors["strategy"] = [$"'{FieldRules.Quote(body!.Strategy!)}' is not a strategy: strategy takes average or bestScore."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        Example Of(string sku, bool isPositive) => new(sku, weights.GetValueOrDefault(sku, 1), isPositive);
        var examples = positive.Distinct().Select(sku => Of(sku, true)).Concat(negative.Distinct().Select(sku => Of(sku, false))).ToList();
        using var _ = await models.ReadLockAsync(ct);
        var pipeline = models.Live.Pipeline;
        var (items, results) = await search.SearchExamplesAsync(examples, strategy!.Value, criteria.Value!, ct);
        if (!items.AllCurrent)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "An example was embedded by another model set.",
                detail: $"Some examples have vectors from a model set other than the live one ({pipeline.Fingerprint}); send them again to re-embed them.");
        if (results is null)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such items.",
                detail: $"None of the positive examples is an item: {string.Join(", ", positive)}.");
        var requestId = Serve(http, served, "examples", query.Visitor, pipeline.Fingerprint, [(positive.Length == 1 ? positive[0] : null, results)]);
        return TypedResults.Ok(new SimilarExamplesResponse(strategy == ExampleStrategy.Average ? "average" : "bestScore",
            criteria.Value!.ImageWeight is null ? "fused" : "weighted", items.Missing, results) { RequestId = requestId });
    }

    /// <summary>404 for a missing item; 409 for one whose vectors another model set made: its cosines would compare two spaces.</summary>
    static ProblemHttpResult? Refusal(string sku, QueryItem item, EmbeddingPipeline pipeline) => item.State switch
    {
        QueryItemState.Missing => Problems.ItemNotFound(sku),
        QueryItemState.OtherModelSet => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The item was embedded by another model set.",
            detail: $"Item '{sku}' has vectors from a model set other than the live one ({pipeline.Fingerprint}); send it again " +
                "(PUT /items/{sku} or an import) to re-embed it, then ask again."),
        _ => null,
    };

    static async Task<Results<Ok<SimilarResponse>, ValidationProblem>> SearchAsync(
        [AsParameters] SimilarQuery query, [AsParameters] HybridQuery hybrid, IFormFile? image, [FromForm] string? text, SimilarSearch search,
        HybridSearch hybridSearch, ModelSets models, IOptions<InputLimits> limits, IOptions<SearchOptions> options, ServedLog served,
        HttpContext http, CancellationToken ct)
    {
        var criteria = query.Validate();
        var choice = hybrid.Validate(criteria.Errors, SearchApi.DefaultTextMode(options.Value), options.Value.LexicalWeight);
        if (choice?.Mode == RetrievalMode.Lexical && string.IsNullOrWhiteSpace(text))
            criteria.Errors["mode"] = ["mode=lexical searches a text's words: send a text."];
        if (FieldRules.TextProblem("text", text, limits.Value.MaxTextCharacters) is { } textProblem)
            criteria.Errors["text"] = [textProblem];
        if (criteria.Value?.Fallback == true)
            criteria.Errors["fallback"] = ["fallback=category fills an item's page from its category: a search has no item (use GET /similar/{sku})."];
        if (criteria.Errors.Count > 0)
            return TypedResults.ValidationProblem(criteria.Errors);

        var bytes = image is { Length: > 0 } ? await FormFiles.ReadAsync(image, limits.Value.MaxImageBytes, "image", ct) : null;
        var words = string.IsNullOrWhiteSpace(text) || choice!.Mode == RetrievalMode.Vector
            ? LexicalQuery.From([]) : (await hybridSearch.ReadWordsAsync(text, ct)).Query;
        var answer = await SearchApi.AnswerAsync(text, bytes, criteria.Value!, choice!, words, search, hybridSearch, models, ct);
        return TypedResults.Ok(answer with { RequestId = Serve(http, served, "search", query.Visitor, models.Live.Fingerprint, [(null, answer.Results)]) });
    }

    public const string RequestIdHeader = "X-Request-Id";

    /// <summary>
    /// Names the answer (its request id, new unless given, also in <see cref="RequestIdHeader"/>) and, when the served log samples this
    /// request, records each of its lists under that id (a batch: one per SKU answered) with its experiment and explored
    /// swap if any; never waits for the record.
    /// </summary>
    internal static Guid Serve(HttpContext http, ServedLog served, string endpoint, string? visitor, string fingerprint,
        IReadOnlyList<(string? QuerySku, IReadOnlyList<SimilarResult> Results)> lists, Guid? id = null, InterleavedAnswer? interleaved = null)
    {
        var requestId = id ?? ServedLog.NewRequestId();
        http.Response.Headers[RequestIdHeader] = requestId.ToString();
        if (!served.Samples())
            return requestId;
        var now = DateTimeOffset.UtcNow;
        var explored = Exploration.ExploredAt(http);
        foreach (var (querySku, results) in lists)
            served.Record(new ServedList(requestId, now, endpoint, querySku, visitor, fingerprint,
                interleaved?.Experiment, interleaved is null ? null : InterleavedAnswer.Arm, interleaved?.Teams, explored,
                [.. results.Select(r => r.Sku)], [.. results.Select(r => (float)(r.WeightedScore ?? r.Score))]));
        return requestId;
    }

    /// <summary>Sets the ETag and Cache-Control headers of the answer; returns the ETag.</summary>
    internal static string SetCacheHeaders(HttpContext http, long revision, string fingerprint, SearchOptions options)
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
