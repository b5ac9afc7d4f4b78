using Microsoft.AspNetCore.Http.HttpResults;

namespace Similarity.Hosting;

/// <summary>The problems several features answer alike, so each is worded once.</summary>
public static class Problems
{
    /// <summary>404: no item has this SKU.</summary>
    public static ProblemHttpResult ItemNotFound(string sku) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such item.", detail: $"There is no item with SKU '{sku}'.");
}
