using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Similarity.Catalog;
using Similarity.Database;

namespace Similarity.Feedback;

/// <summary>
/// A plain reading of <c>GET /co-engaged/{sku}</c> over <c>co_engagement</c>, in the shape the closed loop's contract
/// gives it, so the item page's "Often engaged with" strip has a route to call on a branch without the learned one.
/// The learned route replaces this file: delete it (and its Map line in Program.cs) when both meet.
/// </summary>
public static class CoEngagedStopgapApi
{
    public sealed record CoEngagedItem(string Sku, string Title, string? ImageUrl, double Score, int Visitors);

    public sealed record CoEngagedResponse(string Sku, IReadOnlyList<CoEngagedItem> Items);

    public static IEndpointRouteBuilder MapCoEngagedStopgapApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/co-engaged/{sku}", CoEngagedAsync)
            .WithName("CoEngaged").WithTags("Feedback")
            .WithSummary("The items most co-engaged with the given one (shoppers who engaged with both), strongest first.")
            .WithDescription("`k` (1–100, default 10) items: each with its title, imageUrl, co-engagement score and distinct visitors.")
            .ProducesValidationProblem();
        return app;
    }

    static async Task<Results<Ok<CoEngagedResponse>, ValidationProblem>> CoEngagedAsync(string sku, [FromQuery(Name = "k")] int? k,
        [FromKeyedServices(DatabaseExtensions.ReadsKey)] NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Sku.IsValid(sku))
            errors["sku"] = [$"The SKU must be {Sku.Rule}."];
        if (k is < 1 or > 100)
            errors["k"] = ["k must be between 1 and 100."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var items = await dataSource.ReadWithRetryAsync(async ct =>
        {
            await using var command = dataSource.CreateCommand("""
                SELECT c.other_sku, i.title, i.image_url, c.score, c.visitors
                FROM co_engagement c JOIN items i ON i.sku = c.other_sku
                WHERE c.sku = $1 ORDER BY c.score DESC, c.other_sku LIMIT $2
                """);
            command.Parameters.Add(new() { Value = sku });
            command.Parameters.Add(new() { Value = k ?? 10 });
            await using var reader = await command.ExecuteReaderAsync(ct);
            var found = new List<CoEngagedItem>();
            while (await reader.ReadAsync(ct))
                found.Add(new CoEngagedItem(reader.GetString(reader.GetOrdinal("other_sku")), reader.GetString(reader.GetOrdinal("title")),
                    reader.IsDBNull(reader.GetOrdinal("image_url")) ? null : reader.GetString(reader.GetOrdinal("image_url")),
                    reader.GetFloat(reader.GetOrdinal("score")), reader.GetInt32(reader.GetOrdinal("visitors"))));
            return found;
        }, ct);
        return TypedResults.Ok(new CoEngagedResponse(sku, items));
    }
}
