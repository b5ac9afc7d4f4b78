using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Similarity.Catalog;
using Similarity.Hosting;

namespace Similarity.Insight;

/// <summary>
/// What the vectors tell an admin about the catalog: <c>/duplicates</c> (near-identical groups),
/// <c>/checks/mismatch</c> (pictures that do not show what the text says) and <c>/clusters</c> (the catalog's own groups).
/// </summary>
public static class InsightApi
{
    public const int DefaultLimit = 20, MaxDuplicateLimit = 100, MaxMismatchLimit = 200;
    public const double MinDuplicateScore = 0.5;

    public static IEndpointRouteBuilder MapInsightApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/duplicates", DuplicatesAsync).WithTags("Insight").RequireAdminKey()
            .WithName("ListDuplicates")
            .WithSummary("Groups of near-identical items (the same product under several SKUs), strongest first, paged.")
            .WithDescription("Pairs whose cosine in `by` (`fused`, the default, `image` or `text`) is at least `minScore` (0.5–1, 0.95 by default), " +
                "taken from each item's neighbour list and joined into groups of at most `Similarity:Insight:MaxGroupSize` members, so a chain of " +
                "near-duplicates does not swallow a category. By `fused`, where both items have a picture, the pictures must agree too: image cosine " +
                "at least `Similarity:Insight:DuplicateMinImageScore` and picture sketches (48 × 48 grey copies, compared over crops) matching at least " +
                "`Similarity:Insight:DuplicateMinPictureMatch`. Each group lists its members, every pair's score and the fields on which they differ. " +
                "`limit` groups (1–100, 20 by default) after the first `after`; `total` counts them all. As current as the neighbour lists.")
            .ProducesValidationProblem();
        app.MapGet("/checks/mismatch", MismatchAsync).WithTags("Insight").RequireAdminKey()
            .WithName("ListMismatches")
            .WithSummary("Items whose picture most likely does not show what their text says, likeliest first, paged.")
            .WithDescription("Each item's agreement is the cosine of its image and text vectors (trained to agree); its `score` is how far that " +
                "falls below its category's typical (median) agreement, or the catalog's for a category of few items. `resemblesInstead`: the items " +
                "its picture is nearest to. `limit` items (1–200, 20 by default) after the first `after`; `sku` scores one item alone.")
            .ProducesValidationProblem();
        var clusters = app.MapGroup("/clusters").WithTags("Insight").RequireAdminKey();
        clusters.MapGet("", ClustersAsync)
            .WithName("ListClusters")
            .WithSummary("The catalog grouped by its fused and text vectors: each cluster's size, label words, central items and categories.")
            .WithDescription("Spherical k-means over the live set's fused and text vectors joined (the mean of the two cosines), with the number of clusters chosen by silhouette (or " +
                "`Similarity:Insight:ClusterCount`); recomputed by a background duty once enough items changed. `computedAt` is null until the first.");
        clusters.MapGet("/{id}", ClusterAsync)
            .WithName("GetCluster")
            .WithSummary("One cluster and a page of its members, nearest its centroid first.")
            .WithDescription("`id`: the cluster's number in the last clustering (1 is the largest), as GET /clusters lists them. " +
                "`limit` members (1–1000, 100 by default) after the first `after`; 404 for a cluster the last clustering does not have.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public sealed record DuplicatesResponse(string By, double MinScore, int Total, IReadOnlyList<Duplicates.DuplicateGroup> Groups, int? NextAfter);

    public sealed record MismatchResponse(long Total, IReadOnlyList<Mismatches.MismatchItem> Items, int? NextAfter);

    public sealed record ClustersResponse(ClusterStore.ClusteringState State, IReadOnlyList<ClusterStore.ClusterSummary> Clusters);

    public sealed record ClusterResponse(ClusterStore.ClusterSummary Cluster, IReadOnlyList<ClusterStore.ClusterMember> Members, int? NextAfter);

    static Dictionary<string, string[]> PageErrors(int after, int limit, int maxLimit)
    {
        var errors = new Dictionary<string, string[]>();
        if (limit < 1 || limit > maxLimit)
            errors["limit"] = [$"limit must be between 1 and {maxLimit}."];
        if (after < 0)
            errors["after"] = ["after must not be negative."];
        return errors;
    }

    static async Task<Results<Ok<DuplicatesResponse>, ValidationProblem>> DuplicatesAsync(
        Duplicates duplicates, IOptions<InsightOptions> options, CancellationToken ct,
        double? minScore = null, string by = Modality.Fused, int after = 0, int limit = DefaultLimit)
    {
        var errors = PageErrors(after, limit, MaxDuplicateLimit);
        if (Modality.ColumnOf(by) is null)
            errors["by"] = ["by must be image, text or fused."];
        var threshold = minScore ?? options.Value.DuplicateMinScore;
        if (threshold is < MinDuplicateScore or > 1 || double.IsNaN(threshold))
            errors["minScore"] = [$"minScore must be between {MinDuplicateScore} and 1."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var page = await duplicates.FindAsync(by, threshold, after, limit, ct);
        var next = after + limit < page.Total ? after + limit : (int?)null;
        return TypedResults.Ok(new DuplicatesResponse(by, threshold, page.Total, page.Groups, next));
    }

    static async Task<Results<Ok<MismatchResponse>, ValidationProblem>> MismatchAsync(
        Mismatches mismatches, IOptions<InsightOptions> options, CancellationToken ct, string? sku = null, int after = 0, int limit = DefaultLimit)
    {
        var errors = PageErrors(after, limit, MaxMismatchLimit);
        if (sku is not null && !Sku.IsValid(sku))
            errors["sku"] = [$"The SKU must be {Sku.Rule}."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var o = options.Value;
        var page = await mismatches.FindAsync(sku is null ? null : [sku], null, after, limit, o.MinCategoryItems, ct);
        var next = after + limit < page.Total ? after + limit : (int?)null;
        return TypedResults.Ok(new MismatchResponse(page.Total, [.. page.Items.Select(i => i with { Likely = i.Score >= o.MismatchMargin })], next));
    }

    static async Task<Ok<ClustersResponse>> ClustersAsync(ClusterStore store, CancellationToken ct)
    {
        var (state, clusters) = await store.ReadAsync(ct);
        return TypedResults.Ok(new ClustersResponse(state, clusters));
    }

    /// <summary>The cluster's number as the route spells it: digits only, no sign or leading zero (a string in the document: cluster numbers are no identity to guess at).</summary>
    static int? ClusterNumber(string id) =>
        id is { Length: >= 1 and <= 9 } && id[0] is >= '1' and <= '9' && id.All(char.IsAsciiDigit) ? int.Parse(id, System.Globalization.CultureInfo.InvariantCulture) : null;

    static async Task<Results<Ok<ClusterResponse>, ValidationProblem, ProblemHttpResult>> ClusterAsync(
        string id, ClusterStore store, CancellationToken ct, int after = 0, int limit = 100)
    {
        var errors = PageErrors(after, limit, Paging.MaxLimit);
        if (ClusterNumber(id) is null)
            errors["id"] = ["id must be a cluster's number: 1 to 999999999, digits only."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        if (await store.ReadClusterAsync(ClusterNumber(id)!.Value, after, limit, ct) is not var (cluster, members))
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such cluster.", detail: $"The last clustering has no cluster {id}.");
        var next = after + limit < cluster.Size ? after + limit : (int?)null;
        return TypedResults.Ok(new ClusterResponse(cluster, members, next));
    }
}
