using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Similarity.Catalog;
using Similarity.Database;
using Similarity.Hosting;

namespace Similarity.Similar;

/// <summary>
/// Business rules for item pages, managed by an admin: on <c>sku</c>'s page, pin <c>otherSku</c> at a position, or
/// block it (never pair the two); <c>bothWays</c> applies the rule on <c>otherSku</c>'s page too. Every /similar path
/// applies them (SimilarSearch reads them in the same round trip as the search).
/// </summary>
public static class RulesApi
{
    public const string Pin = "pin", Block = "block";
    public const int MaxPosition = 100, DefaultLimit = 100, MaxLimit = 1000;

    public static IEndpointRouteBuilder MapRulesApi(this IEndpointRouteBuilder app)
    {
        var rules = app.MapGroup("/rules").WithTags("Rules").RequireAdminKey();
        rules.MapPut("/{sku}/{otherSku}", PutAsync)
            .WithName("PutRule")
            .WithSummary("Pins otherSku on sku's page at a position, or blocks the pair; replaces any rule between the two.")
            .WithDescription("JSON `{\"kind\": \"pin\", \"position\": 1, \"bothWays\": false}` or `{\"kind\": \"block\", \"bothWays\": true}`. " +
                "A pinned item shows at its position (1 = first) whatever its score, under the request's filters; a blocked one never shows. " +
                "`bothWays`: the same on otherSku's page (pinning sku there). The items need not exist yet.");
        rules.MapGet("/", ListAsync)
            .WithName("ListRules")
            .WithSummary("The rules, or those that apply on one item's page (sku).")
            .WithDescription("In SKU order, at most `limit` of them. With `sku`: the rules made on that page and those made both ways from the other side.");
        rules.MapDelete("/{sku}/{otherSku}", DeleteAsync)
            .WithName("DeleteRule")
            .WithSummary("Removes the rule between sku and otherSku (a both-ways rule also as otherSku/sku).")
            .WithDescription("204, then 404 for it; the pages it changed are as the similarity alone ranks them again.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public sealed record RuleRequest(string? Kind, int? Position, bool? BothWays);

    public sealed record Rule(string Sku, string OtherSku, string Kind, int? Position, bool BothWays, DateTimeOffset CreatedAt);

    public sealed record RulesResponse(IReadOnlyList<Rule> Rules);

    static async Task<Results<Created<Rule>, Ok<Rule>, ValidationProblem>> PutAsync(
        string sku, string otherSku, RuleRequest? body, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Sku.IsValid(sku))
            errors["sku"] = [$"The SKU must be {Sku.Rule}."];
        if (!Sku.IsValid(otherSku))
            errors["otherSku"] = [$"The SKU must be {Sku.Rule}."];
        else if (otherSku == sku)
            errors["otherSku"] = ["A rule pairs two different items."];
        if (body?.Kind is not (Pin or Block))
            errors["kind"] = ["kind must be pin or block."];
        else if (body.Kind == Pin && body.Position is not (>= 1 and <= MaxPosition))
            errors["position"] = [$"A pin needs a position between 1 and {MaxPosition}."];
        else if (body.Kind == Block && body.Position is not null)
            errors["position"] = ["A block has no position."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var rule = new Rule(sku, otherSku, body!.Kind!, body.Position, body.BothWays ?? false, default);
        var (stored, replaced) = await StoreAsync(dataSource, rule, ct);
        return replaced ? TypedResults.Ok(stored) : TypedResults.Created($"/rules/{sku}/{otherSku}", stored);
    }

    static async Task<(Rule Stored, bool Replaced)> StoreAsync(NpgsqlDataSource dataSource, Rule rule, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // One rule per pair, in either direction; the revision changes /similar's ETags.
        await using var delete = new NpgsqlCommand("DELETE FROM similar_rules WHERE (sku = $1 AND other_sku = $2) OR (sku = $2 AND other_sku = $1)", connection, transaction)
        {
            Parameters = { new() { Value = rule.Sku }, new() { Value = rule.OtherSku } },
        };
        var replaced = await delete.ExecuteNonQueryAsync(ct) > 0;
        await using var insert = new NpgsqlCommand("""
            INSERT INTO similar_rules (sku, other_sku, kind, position, both_ways) VALUES ($1, $2, $3, $4, $5) RETURNING created_at
            """, connection, transaction)
        {
            Parameters = { new() { Value = rule.Sku }, new() { Value = rule.OtherSku }, new() { Value = rule.Kind },
                new() { Value = (object?)rule.Position ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer }, new() { Value = rule.BothWays } },
        };
        var stored = rule with { CreatedAt = (DateTime)(await insert.ExecuteScalarAsync(ct))! };
        await using var bump = new NpgsqlCommand("UPDATE catalog_state SET revision = revision + 1", connection, transaction);
        await bump.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
        return (stored, replaced);
    }

    static async Task<Results<Ok<RulesResponse>, ValidationProblem>> ListAsync(
        string? sku, NpgsqlDataSource dataSource, CancellationToken ct, int limit = DefaultLimit)
    {
        var errors = new Dictionary<string, string[]>();
        if (sku is not null && !Sku.IsValid(sku))
            errors["sku"] = [$"The SKU must be {Sku.Rule}."];
        if (limit is < 1 or > MaxLimit)
            errors["limit"] = [$"limit must be between 1 and {MaxLimit}."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var rules = await dataSource.ReadWithRetryAsync(async ct =>
        {
            await using var command = dataSource.CreateCommand("""
                SELECT sku, other_sku, kind, position, both_ways, created_at FROM similar_rules
                WHERE $1::text IS NULL OR sku = $1 OR (both_ways AND other_sku = $1)
                ORDER BY sku, other_sku LIMIT $2
                """);
            command.Parameters.Add(new() { Value = (object?)sku ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new() { Value = limit });
            await using var reader = await command.ExecuteReaderAsync(ct);
            var found = new List<Rule>();
            while (await reader.ReadAsync(ct))
            {
                found.Add(new Rule(reader.GetString(reader.GetOrdinal("sku")), reader.GetString(reader.GetOrdinal("other_sku")),
                    reader.GetString(reader.GetOrdinal("kind")), reader.IsDBNull(reader.GetOrdinal("position")) ? null : reader.GetInt32(reader.GetOrdinal("position")),
                    reader.GetBoolean(reader.GetOrdinal("both_ways")), reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("created_at"))));
            }
            return found;
        }, ct);
        return TypedResults.Ok(new RulesResponse(rules));
    }

    static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> DeleteAsync(
        string sku, string otherSku, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        if (!Sku.IsValid(sku) || !Sku.IsValid(otherSku))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [Sku.IsValid(sku) ? "otherSku" : "sku"] = [$"The SKU must be {Sku.Rule}."] });
        long deleted;
        {
            await using var command = dataSource.CreateCommand("""
                WITH gone AS (DELETE FROM similar_rules WHERE (sku = $1 AND other_sku = $2) OR (both_ways AND sku = $2 AND other_sku = $1) RETURNING 1),
                     bumped AS (UPDATE catalog_state SET revision = revision + 1 WHERE EXISTS (SELECT 1 FROM gone) RETURNING 1)
                SELECT count(*) FROM gone
                """);
            command.Parameters.Add(new() { Value = sku });
            command.Parameters.Add(new() { Value = otherSku });
            deleted = (long)(await command.ExecuteScalarAsync(ct))!;
        }
        return deleted > 0 ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such rule.", detail: $"There is no rule between '{sku}' and '{otherSku}'.");
    }
}
