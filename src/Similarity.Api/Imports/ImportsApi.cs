using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Similarity.Encoders;
using Similarity.Hosting;

namespace Similarity.Imports;

public static class ImportsApi
{
    public static IEndpointRouteBuilder MapImportsApi(this IEndpointRouteBuilder app)
    {
        var imports = app.MapGroup("/imports").WithTags("Imports").RequireAdminKey();
        imports.MapPost("", CreateAsync)
            .WithName("CreateImport")
            .WithSummary("Uploads a catalog (CSV or JSON Lines) and an optional images zip; returns the queued job.")
            .WithDescription("Multipart: `catalog` (columns sku,title,description,category,brand,price,currency,available,image; " +
                "JSON Lines may add attributes) and `images` (a zip whose entry paths the image column names). " +
                "An Idempotency-Key header makes a retried upload return the same job.")
            .DisableAntiforgery()
            .Accepts<IFormFile>("multipart/form-data")
            .Produces<JobResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        imports.MapGet("", ListAsync).WithName("ListImports").WithSummary("Recent import jobs, newest first.");
        imports.MapGet("/{id:guid}", GetAsync).WithName("GetImport").WithSummary("One import job: status, counts, rate.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        imports.MapGet("/{id:guid}/errors", ErrorsAsync).WithName("GetImportErrors")
            .WithSummary("The rejected rows of a job, in row order, paged by `after` (JSON, or CSV with Accept: text/csv).")
            .Produces<ErrorsResponse>().Produces<string>(StatusCodes.Status200OK, "text/csv")
            .ProducesProblem(StatusCodes.Status404NotFound);
        imports.MapDelete("/{id:guid}", CancelAsync).WithName("CancelImport")
            .WithSummary("Cancels a queued or running job; batches already committed stay.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    public sealed record Counts(int? Total, int Processed, int Inserted, int Updated, int Unchanged, int Superseded, int Failed);

    public sealed record JobResponse(
        Guid Id, string Status, string Format, Counts Counts, double? RowsPerSecond, string? Error,
        DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string Errors)
    {
        public static JobResponse From(ImportJob job)
        {
            var elapsed = ((job.FinishedAt ?? DateTimeOffset.UtcNow) - (job.StartedAt ?? DateTimeOffset.UtcNow)).TotalSeconds;
            return new JobResponse(job.Id, job.Status, job.Format,
                new Counts(job.TotalRows, job.ProcessedRows, job.Inserted, job.Updated, job.Unchanged, job.Superseded, job.Failed),
                job.StartedAt is null || elapsed <= 0 ? null : Math.Round(job.ProcessedRows / elapsed, 1), job.Error,
                job.CreatedAt, job.StartedAt, job.FinishedAt, $"/imports/{job.Id}/errors");
        }
    }

    public sealed record ErrorsResponse(Guid JobId, IReadOnlyList<ImportError> Errors, int? NextAfter);

    static async Task<Results<Accepted<JobResponse>, Ok<JobResponse>, ProblemHttpResult>> CreateAsync(
        HttpRequest request, ImportStore store, ImportQueue queue, IOptions<ImportOptions> options, IOptions<InputLimits> limits, CancellationToken ct)
    {
        var o = options.Value;
        var id = Guid.CreateVersion7();
        var directory = ImportSpool.DirectoryFor(o.SpoolPath, id);
        try
        {
            var upload = await ImportUpload.SpoolAsync(request, directory, o, ct);
            if (CatalogRows.HeaderProblem(upload.CatalogPath, upload.Format) is { } header)
                throw new InputRejectedException("catalog", header);
            var rows = 0;
            foreach (var _ in CatalogRows.Read(upload.CatalogPath, upload.Format))
            {
                if (++rows > o.MaxRows)
                    throw new InputRejectedException("catalog", $"The catalog has more than {o.MaxRows} rows (Similarity:Imports:MaxRows).", StatusCodes.Status413PayloadTooLarge);
            }
            if (upload.ImagesPath is not null)
            {
                using var archive = ImageArchive.Open(upload.ImagesPath, o, limits.Value.MaxImageBytes);
                archive.CheckInflation();
            }

            var key = request.Headers["Idempotency-Key"].ToString() is { Length: > 0 } k ? k : null;
            var (job, created) = await store.CreateAsync(id, key, upload.BodySha256, upload.Format, upload.CatalogPath, upload.ImagesPath, rows, ct);
            if (!created)
            {
                Directory.Delete(directory, recursive: true);
                if (!job.BodySha256.AsSpan().SequenceEqual(upload.BodySha256))
                    return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused.",
                        detail: $"The Idempotency-Key '{key}' was used for a different upload (job {job.Id}).");
                return TypedResults.Ok(JobResponse.From(job));
            }
            queue.Notify();
            return TypedResults.Accepted($"/imports/{job.Id}", JobResponse.From(job));
        }
        catch
        {
            // Nothing of a refused upload is kept.
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    static async Task<Ok<List<JobResponse>>> ListAsync(ImportStore store, CancellationToken ct, int limit = 20) =>
        TypedResults.Ok((await store.ListAsync(Math.Clamp(limit, 1, 200), ct)).Select(JobResponse.From).ToList());

    static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> GetAsync(Guid id, ImportStore store, CancellationToken ct) =>
        await store.GetAsync(id, ct) is { } job ? TypedResults.Ok(JobResponse.From(job)) : NotFound(id);

    static async Task<Results<Ok<ErrorsResponse>, ContentHttpResult, ProblemHttpResult>> ErrorsAsync(
        Guid id, HttpRequest request, ImportStore store, CancellationToken ct, int after = 0, int limit = 1000)
    {
        if (await store.GetAsync(id, ct) is null)
            return NotFound(id);
        limit = Math.Clamp(limit, 1, 10_000);
        var errors = await store.ErrorsAsync(id, after, limit, ct);
        if (request.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase))
        {
            using var writer = new StringWriter(CultureInfo.InvariantCulture);
            using (var csv = new CsvHelper.CsvWriter(writer, CultureInfo.InvariantCulture))
            {
                csv.WriteField("row");
                csv.WriteField("sku");
                csv.WriteField("reason");
                await csv.NextRecordAsync();
                foreach (var error in errors)
                {
                    csv.WriteField(error.Row);
                    csv.WriteField(error.Sku);
                    csv.WriteField(error.Reason);
                    await csv.NextRecordAsync();
                }
            }
            return TypedResults.Text(writer.ToString(), "text/csv", Encoding.UTF8);
        }
        return TypedResults.Ok(new ErrorsResponse(id, errors, errors.Count == limit ? errors[^1].Row : null));
    }

    static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> CancelAsync(Guid id, ImportStore store, CancellationToken ct)
    {
        if (await store.GetAsync(id, ct) is null)
            return NotFound(id);
        if (!await store.CancelAsync(id, ct))
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The job has already ended.");
        var job = (await store.GetAsync(id, ct))!;
        // A running job stops at its next batch and its worker removes the upload; a queued one is never claimed.
        if (job.StartedAt is null)
            ImportSpool.Delete(job.CatalogPath);
        return TypedResults.Accepted($"/imports/{id}", JobResponse.From(job));
    }

    static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such import.", detail: $"There is no import job {id}.");
}
