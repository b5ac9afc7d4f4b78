using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Similarity.Hosting;

namespace Similarity.Insight;

/// <summary><c>GET /imports/{id}/checks</c>: what the catalog checks found in an import job's items, as JSON or CSV.</summary>
public static class ImportChecksApi
{
    public static IEndpointRouteBuilder MapImportChecksApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/imports/{id:guid}/checks", ChecksAsync).WithTags("Imports").RequireAdminKey()
            .WithName("GetImportChecks")
            .WithSummary("A job's catalog checks — duplicates, mismatched pictures, missing or small pictures, boilerplate descriptions, repeated titles — paged (JSON, or CSV with Accept: text/csv).")
            .WithDescription("Checks never reject a row: every listed item was stored. In kind then SKU order; `kind` keeps one kind " +
                "(duplicate, mismatch, noPicture, smallPicture, boilerplateDescription, repeatedTitle); `limit` checks (1–1000) after the first `after`. " +
                "They are run when the job's rows are all written; a running job lists none yet.")
            .Produces<ImportChecksResponse>().Produces<string>(StatusCodes.Status200OK, "text/csv")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public sealed record ImportChecksResponse(Guid JobId, IReadOnlyList<ImportCheckReads.ImportCheck> Checks, int? NextAfter);

    static async Task<Results<Ok<ImportChecksResponse>, ContentHttpResult, ProblemHttpResult, ValidationProblem>> ChecksAsync(
        Guid id, HttpRequest request, ImportCheckReads reads, CancellationToken ct, string? kind = null, int after = 0, int limit = Paging.MaxLimit)
    {
        var errors = new Dictionary<string, string[]>();
        if (Paging.LimitProblem(limit) is { } problem)
            errors["limit"] = [problem];
        if (after < 0)
            errors["after"] = ["after must not be negative."];
        if (kind is not null && !ImportCheckKind.All.Contains(kind))
            errors["kind"] = [$"kind must be one of {string.Join(", ", ImportCheckKind.All)}."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        if (!await reads.JobExistsAsync(id, ct))
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such import.", detail: $"There is no import job {id}.");
        var checks = await reads.PageAsync(id, kind, after, limit, ct);
        if (request.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase))
        {
            using var writer = new StringWriter(CultureInfo.InvariantCulture);
            using (var csv = new CsvHelper.CsvWriter(writer, CultureInfo.InvariantCulture))
            {
                foreach (var column in new[] { "kind", "sku", "detail", "related", "score" })
                    csv.WriteField(column);
                await csv.NextRecordAsync();
                foreach (var check in checks)
                {
                    csv.WriteField(check.Kind);
                    csv.WriteField(check.Sku);
                    csv.WriteField(check.Detail);
                    csv.WriteField(string.Join(' ', check.Related));
                    csv.WriteField(check.Score?.ToString("R", CultureInfo.InvariantCulture));
                    await csv.NextRecordAsync();
                }
            }
            return TypedResults.Text(writer.ToString(), "text/csv", Encoding.UTF8);
        }
        return TypedResults.Ok(new ImportChecksResponse(id, checks, checks.Count == limit ? after + limit : null));
    }
}
