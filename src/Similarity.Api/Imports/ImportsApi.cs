using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Similarity.Catalog;
using Similarity.Hosting;
using Similarity.Insight;

namespace Similarity.Imports;

public static partial class ImportsApi
{
    public static IEndpointRouteBuilder MapImportsApi(this IEndpointRouteBuilder app)
    {
        var imports = app.MapGroup("/imports").WithTags("Imports").RequireAdminKey();
        imports.MapPost("", CreateAsync)
            .WithName("CreateImport")
            .WithSummary("Uploads a catalog in our format, as a Merchant Center feed, a Shopify export or any CSV with a mapping; returns the queued job.")
            .WithDescription("Multipart: `catalog` — our own CSV/TSV/JSON Lines (sku, title, description, category, brand, price, currency, " +
                "available, image, imageUrl, attributes), a Google Merchant Center feed (TSV/CSV, or RSS/Atom XML with g: elements), a " +
                "Shopify product CSV, or any other CSV with `mapping` (JSON: our field → your column); the format and delimiter are " +
                "detected, or named in `format` (native, merchant-center, shopify). Pictures come from `images` (a zip whose entry paths " +
                "the image column names) or by URL (image_link, Image Src, imageUrl, or an image that is an http(s) URL), downloaded by " +
                "the job; `missingImage` (skip, the default, or textOnly) says what becomes of a row whose picture cannot be had. " +
                "An Idempotency-Key header makes a retried upload return the same job (and resumes it if it failed). " +
                "The 202 comes back once the body is stored: the job then counts the rows and checks the zip, and reports what it found.")
            .DisableAntiforgery()
            .Accepts<ImportUploadForm>("multipart/form-data")
            .Produces<JobResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        imports.MapGet("", ListAsync).WithName("ListImports").WithSummary("Recent import jobs, newest first.")
            .WithDescription("Each job as GET /imports/{id} shows it; `limit` of them (20 by default, at most 1000).");
        imports.MapGet("/{id:guid}", GetAsync).WithName("GetImport").WithSummary("One import job: status, counts, rate.")
            .WithDescription("Status is queued, running, succeeded, succeeded_with_errors, failed (error says why; resume goes on) or cancelled. " +
                "Counts: total (once counted), processed, inserted, updated (fields only), reembedded, unchanged, superseded, errors (rows rejected, not stored), " +
                "warnings (rows stored with a warning, e.g. without their picture), picturesDownloaded. /errors lists both kinds (`stored` tells them apart). " +
                "`checks`: what the catalog checks found in the job's items, by kind, once its rows are all written; /checks lists them.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        imports.MapGet("/{id:guid}/errors", ErrorsAsync).WithName("GetImportErrors")
            .WithDescription("JSON by default, CSV with Accept: text/csv. A page holds `limit` errors (at most 1000) after row `after`; the JSON gives nextAfter for the next page.")
            .WithSummary("A job's row errors in row order — row, file line, SKU, the file's columns at fault, reason — paged by `after` (JSON, or CSV with Accept: text/csv).")
            .Produces<ErrorsResponse>().Produces<string>(StatusCodes.Status200OK, "text/csv")
            .ProducesProblem(StatusCodes.Status404NotFound);
        imports.MapPost("/{id:guid}/resume", ResumeAsync).WithName("ResumeImport")
            .WithDescription("Only a failed job whose upload was kept (a transient fault stopped it); 409 otherwise.")
            .WithSummary("Queues a failed job again; it goes on from its last committed batch with the upload it kept.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        imports.MapDelete("/{id:guid}", CancelAsync).WithName("CancelImport")
            .WithDescription("The job stops at its next batch; what it committed stays. 409 when it has already ended.")
            .WithSummary("Cancels a queued or running job; batches already committed stay.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    /// <summary>
    /// A job's rows so far: <c>inserted</c> new items; <c>updated</c>: fields that are not embedded changed (no
    /// re-embedding); <c>reembedded</c>: the picture or the embedded text changed; <c>unchanged</c>; <c>superseded</c>
    /// by a later row of the same SKU; <c>errors</c>: rows rejected (not stored); <c>warnings</c>: rows stored with a
    /// warning (without their picture). Each error and each warning is one row at the job's /errors.
    /// </summary>
    public sealed record Counts(int? Total, int Processed, int Inserted, int Updated, int Reembedded, int Unchanged, int Superseded, int Errors,
        int PicturesDownloaded = 0, int Warnings = 0);

    public sealed record JobResponse(
        Guid Id, string Status, string Format, Counts Counts, double? RowsPerSecond, string? Error,
        DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string Errors, string? FileName = null,
        ImportCheckReads.ImportCheckCounts? Checks = null)
    {
        public static JobResponse From(ImportJob job)
        {
            var elapsed = ((job.FinishedAt ?? DateTimeOffset.UtcNow) - (job.StartedAt ?? DateTimeOffset.UtcNow)).TotalSeconds;
            return new JobResponse(job.Id, job.Status, job.Format,
                new Counts(job.TotalRows, job.ProcessedRows, job.Inserted, job.Updated, job.Reembedded, job.Unchanged, job.Superseded, job.Errors, job.PicturesDownloaded, job.Warnings),
                job.StartedAt is null || elapsed <= 0 ? null : Math.Round(job.ProcessedRows / elapsed, 1), job.Error,
                job.CreatedAt, job.StartedAt, job.FinishedAt, $"/imports/{job.Id}/errors", job.FileName);
        }
    }

    public sealed record ErrorsResponse(Guid JobId, IReadOnlyList<ImportError> Errors, int? NextAfter);

    public const int MaxIdempotencyKey = 200;

    static async Task<Results<Accepted<JobResponse>, Ok<JobResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ImportStore store, ImportQueue queue,
        ImportSpool spool, SimilarityMetrics metrics, IOptions<ImportOptions> options, ILoggerFactory loggers, CancellationToken ct)
    {
        if (FieldRules.TextProblem("Idempotency-Key", idempotencyKey, MaxIdempotencyKey) is { } keyProblem)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["Idempotency-Key"] = [keyProblem] });
        var key = string.IsNullOrEmpty(idempotencyKey) ? null : idempotencyKey;
        var o = options.Value;
        var id = Guid.CreateVersion7();
        string directory;
        try
        {
            directory = spool.CreateJobFolder(id);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The service's fault, not the client's; /health/ready reports it too.
            LogSpoolUnwritable(loggers.CreateLogger(typeof(ImportsApi)), spool.Root, ex);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Uploads cannot be stored now.",
                detail: "The import spool (Similarity:Imports:SpoolPath) cannot be written; the operator is told by the log and /health/ready.");
        }
        try
        {
            // Only checks that cost the same for any size run here — the header line, the zip's last bytes — so
            // the 202 comes back as soon as the body is stored. Counting rows and inflating the zip are the job's.
            var upload = await ImportUpload.SpoolAsync(request, directory, o, ct);
            var (layout, _) = upload.Reading.Open(upload.CatalogPath);
            if (upload.ImagesPath is not null)
                ZipDirectory.Check(upload.ImagesPath, o);

            var (job, created) = await store.CreateAsync(id, key, upload.BodySha256, layout.Name, upload.CatalogPath, upload.ImagesPath, upload.Reading, upload.FileName, ct);
            if (created)
            {
                metrics.ImportJobs.Add(1, new KeyValuePair<string, object?>("status", ImportStatus.Queued));
                queue.Notify();
                return TypedResults.Accepted($"/imports/{job.Id}", JobResponse.From(job));
            }
            if (!job.BodySha256.AsSpan().SequenceEqual(upload.BodySha256))
            {
                Directory.Delete(directory, recursive: true);
                return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused.",
                    detail: $"The Idempotency-Key '{key}' was used for a different upload (job {job.Id}).");
            }
            // The same upload again: a failed job resumes, running from this fresh copy; any other is answered as it stands.
            if (job.Status == ImportStatus.Failed && await store.ResumeAsync(job.Id, upload.CatalogPath, upload.ImagesPath, ct) is { } resumed)
            {
                DeleteQuietly(job, loggers.CreateLogger(typeof(ImportsApi)));
                queue.Notify();
                return TypedResults.Accepted($"/imports/{job.Id}", JobResponse.From(resumed));
            }
            Directory.Delete(directory, recursive: true);
            return TypedResults.Ok(JobResponse.From(job));
        }
        catch
        {
            // Nothing of a refused upload is kept.
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> ResumeAsync(Guid id, ImportStore store, ImportQueue queue, CancellationToken ct)
    {
        if (await store.GetAsync(id, ct) is not { } job)
            return NotFound(id);
        if (job.Status != ImportStatus.Failed)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Only a failed job can be resumed.",
                detail: $"Import {id} is {job.Status}.");
        if (!ImportSpool.HasUpload(job))
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The job's upload is gone.",
                detail: $"Import {id} has no upload to run from (it was refused, or removed). Post the same catalog again under " +
                    "the job's Idempotency-Key to resume it from that copy, or start a new import.");
        if (await store.ResumeAsync(id, job.CatalogPath, job.ImagesPath, ct) is not { } resumed)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Only a failed job can be resumed.",
                detail: $"Import {id} changed state meanwhile.");
        queue.Notify();
        return TypedResults.Accepted($"/imports/{id}", JobResponse.From(resumed));
    }

    /// <summary>
    /// Removes an upload no job runs from any more. A folder that will not go stays behind, harmless to the job, and
    /// is logged with the job's id and path so that an operator can clear it.
    /// </summary>
    static void DeleteQuietly(ImportJob job, ILogger logger)
    {
        try
        {
            ImportSpool.Delete(job);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogUploadLeftBehind(logger, job.Id, Path.GetDirectoryName(job.CatalogPath) ?? job.CatalogPath, ex);
        }
    }

    /// <summary>Why a page is refused: its limit out of range, or a negative <c>after</c>; null when it is fine.</summary>
    static ValidationProblem? PageProblem(int limit, int after = 0) =>
        Paging.LimitProblem(limit) is { } problem ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [problem] })
        : after < 0 ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["after"] = ["after must not be negative."] })
        : null;

    static async Task<Results<Ok<List<JobResponse>>, ValidationProblem>> ListAsync(ImportStore store, ImportCheckReads checks, CancellationToken ct, int limit = 20)
    {
        if (PageProblem(limit) is { } problem)
            return problem;
        var jobs = await store.ListAsync(limit, ct);
        var counts = await checks.CountsAsync([.. jobs.Select(j => j.Id)], ct);
        return TypedResults.Ok(jobs.Select(j => JobResponse.From(j) with { Checks = counts[j.Id] }).ToList());
    }

    static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> GetAsync(Guid id, ImportStore store, ImportCheckReads checks, CancellationToken ct) =>
        await store.GetAsync(id, ct) is { } job
            ? TypedResults.Ok(JobResponse.From(job) with { Checks = (await checks.CountsAsync([id], ct))[id] })
            : NotFound(id);

    static async Task<Results<Ok<ErrorsResponse>, ContentHttpResult, ProblemHttpResult, ValidationProblem>> ErrorsAsync(
        Guid id, HttpRequest request, ImportStore store, CancellationToken ct, int after = 0, int limit = Paging.MaxLimit)
    {
        if (PageProblem(limit, after) is { } problem)
            return problem;
        if (await store.GetAsync(id, ct) is null)
            return NotFound(id);
        var errors = await store.ErrorsAsync(id, after, limit, ct);
        if (request.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase))
        {
            using var writer = new StringWriter(CultureInfo.InvariantCulture);
            using (var csv = new CsvHelper.CsvWriter(writer, CultureInfo.InvariantCulture))
            {
                foreach (var column in new[] { "row", "line", "sku", "columns", "reason", "stored" })
                    csv.WriteField(column);
                await csv.NextRecordAsync();
                foreach (var error in errors)
                {
                    csv.WriteField(error.Row);
                    csv.WriteField(error.Line);
                    csv.WriteField(error.Sku);
                    csv.WriteField(error.Columns);
                    csv.WriteField(error.Reason);
                    csv.WriteField(error.Stored ? "true" : "false");
                    await csv.NextRecordAsync();
                }
            }
            return TypedResults.Text(writer.ToString(), "text/csv", Encoding.UTF8);
        }
        return TypedResults.Ok(new ErrorsResponse(id, errors, errors.Count == limit ? errors[^1].Row : null));
    }

    static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> CancelAsync(Guid id, ImportStore store, ILoggerFactory loggers, CancellationToken ct)
    {
        if (await store.GetAsync(id, ct) is null)
            return NotFound(id);
        if (!await store.CancelAsync(id, ct))
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The job has already ended.");
        var job = (await store.GetAsync(id, ct))!;
        // A running job stops at its next batch and its worker removes the upload; a queued one is never claimed.
        if (job.StartedAt is null)
            DeleteQuietly(job, loggers.CreateLogger(typeof(ImportsApi)));
        return TypedResults.Accepted($"/imports/{id}", JobResponse.From(job));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "An upload could not be stored: the import spool {Root} cannot be written")]
    static partial void LogSpoolUnwritable(ILogger logger, string root, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import {JobId}: its upload {Folder} could not be removed and stays behind")]
    static partial void LogUploadLeftBehind(ILogger logger, Guid jobId, string folder, Exception exception);

    static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such import.", detail: $"There is no import job {id}.");
}
