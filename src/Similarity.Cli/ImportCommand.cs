using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Spectre.Console;

namespace Similarity.Cli;

/// <summary>
/// Uploads a catalog (streamed from disk), follows its job with a live progress bar — rows/s, ETA, row errors so
/// far — then prints the row errors. Returns an <see cref="ExitCodes"/> value; a server error or an unreachable
/// service is thrown as <see cref="HttpRequestException"/> for the caller to report.
/// </summary>
public sealed class ImportCommand(HttpClient http, IAnsiConsole console, TimeSpan pollInterval)
{
    public sealed record Counts(int? Total, int Processed, int Inserted, int Updated, int Reembedded, int Unchanged, int Superseded, int Errors, int PicturesDownloaded, int Warnings = 0);

    /// <summary>What the service's catalog checks found in the job's items, by kind (they never reject a row).</summary>
    public sealed record Checks(int Duplicate, int Mismatch, int NoPicture, int SmallPicture, int BoilerplateDescription, int RepeatedTitle, int Total, string List);

    public sealed record Job(Guid Id, string Status, string Format, Counts Counts, double? RowsPerSecond, string? Error, Checks? Checks = null);

    public sealed record ImportError(int Row, int? Line, string? Sku, string? Columns, string Reason, bool Stored);

    /// <summary>The form's optional fields: the format (else detected by the service), a column mapping, missingImage.</summary>
    public sealed record Fields(string? Format = null, string? Mapping = null, string? MissingImage = null);

    public sealed record ErrorPage(IReadOnlyList<ImportError> Errors, int? NextAfter);

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    static readonly string[] Ended = ["succeeded", "succeeded_with_errors", "failed", "cancelled"];

    public async Task<int> RunAsync(string catalogPath, string? imagesPath, CancellationToken ct, Fields? fields = null)
    {
        fields ??= new Fields();
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in new[] { ("format", fields.Format), ("mapping", fields.Mapping), ("missingImage", fields.MissingImage) })
        {
            if (value is not null)
                form.Add(new StringContent(value), name);
        }
        await using var catalog = File.OpenRead(catalogPath);
        form.Add(new StreamContent(catalog), "catalog", Path.GetFileName(catalogPath));
        await using var images = imagesPath is null ? null : File.OpenRead(imagesPath);
        if (images is not null)
        {
            var zip = new StreamContent(images);
            zip.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
            form.Add(zip, "images", Path.GetFileName(imagesPath!));
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "/imports") { Content = form };
        request.Headers.Add("Idempotency-Key", IdempotencyKey(catalogPath, imagesPath, fields));
        var response = await http.SendAsync(request, ct);
        if ((int)response.StatusCode >= 500)
            throw new HttpRequestException(null, null, response.StatusCode);
        if (!response.IsSuccessStatusCode)
        {
            console.MarkupLineInterpolated($"[red]The service refused the upload ({(int)response.StatusCode}):[/] {await ProblemText(response, ct)}");
            return ExitCodes.Refused;
        }
        var job = (await response.Content.ReadFromJsonAsync<Job>(Json, ct))!;
        console.MarkupLineInterpolated($"Import [bold]{job.Id}[/] queued: {job.Format} catalog");

        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask("rows", maxValue: 1);
                while (!Ended.Contains(job.Status))
                {
                    await Task.Delay(pollInterval, ct);
                    job = (await http.GetFromJsonAsync<Job>($"/imports/{job.Id}", Json, ct))!;
                    // The total is known once the job has counted the rows (its first step).
                    task.MaxValue = Math.Max(1, job.Counts.Total ?? 1);
                    task.Value = job.Counts.Processed;
                    task.Description = $"{job.Counts.Processed}/{job.Counts.Total?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} rows, {job.RowsPerSecond ?? 0:F0} rows/s, {RowErrors(job.Counts.Errors, job.Counts.Warnings)}";
                }
                task.Value = task.MaxValue;
            });

        var c = job.Counts;
        console.MarkupLineInterpolated($"[bold]{job.Status}[/]: {c.Inserted} inserted, {c.Updated} updated, {c.Reembedded} re-embedded, {c.Unchanged} unchanged, {c.Superseded} superseded, {RowErrors(c.Errors, c.Warnings)}{(c.PicturesDownloaded > 0 ? $", {c.PicturesDownloaded} pictures downloaded" : "")}");
        if (job.Checks is { Total: > 0 } checks)
            console.MarkupLineInterpolated($"Catalog checks (every row was stored): {CheckSummary(checks)}; listed at {checks.List}");
        await PrintErrorsAsync(job.Id, ct);
        if (job.Error is not null)
            console.MarkupLineInterpolated($"[red]{job.Error}[/]");
        return job.Status is "succeeded" or "succeeded_with_errors" ? ExitCodes.Succeeded : ExitCodes.JobDidNotSucceed;
    }

    /// <summary>The checks that found something, in the words the imports page uses.</summary>
    static string CheckSummary(Checks c) => string.Join(", ", new[]
        {
            (c.Duplicate, "duplicates"), (c.Mismatch, "pictures unlike their text"), (c.NoPicture, "without a picture"),
            (c.SmallPicture, "small pictures"), (c.BoilerplateDescription, "boilerplate descriptions"), (c.RepeatedTitle, "repeated titles"),
        }.Where(e => e.Item1 > 0).Select(e => $"{e.Item1} {e.Item2}"));

    /// <summary>
    /// The counts' <c>errors</c> (rows rejected) and <c>warnings</c> (rows stored with a warning), in the words the
    /// README and the pages use; the list printed after them holds both.
    /// </summary>
    static string RowErrors(int errors, int warnings) =>
        (errors == 1 ? "1 row error" : $"{errors} row errors") + (warnings == 0 ? "" : warnings == 1 ? ", 1 row stored with a warning" : $", {warnings} rows stored with a warning");

    /// <summary>
    /// The same for a retried upload of the same files with the same fields, so it returns the same job instead of
    /// starting a second one; different for anything that changes the upload (a new pictures zip, another format,
    /// mapping or missingImage), which the service would otherwise refuse as a reused key (422).
    /// </summary>
    static string IdempotencyKey(string catalogPath, string? imagesPath, Fields fields)
    {
        static string Identity(string path) => $"{Path.GetFullPath(path)}|{new FileInfo(path).Length}|{File.GetLastWriteTimeUtc(path).Ticks}";
        var upload = $"{Identity(catalogPath)}\n{(imagesPath is null ? "" : Identity(imagesPath))}\n{fields}";
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(upload)))[..24];
        var name = Path.GetFileName(catalogPath);
        return $"cli-{(name.Length > 100 ? name[..100] : name)}-{hash}";
    }

    /// <summary>A ProblemDetails as one line: its detail (or title) and the fields it names.</summary>
    static async Task<string> ProblemText(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        try
        {
            using var problem = JsonDocument.Parse(body);
            var root = problem.RootElement;
            var text = root.TryGetProperty("detail", out var detail) && detail.GetString() is { Length: > 0 } d ? d
                : root.TryGetProperty("title", out var title) ? title.GetString() ?? "" : "";
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                var fields = errors.EnumerateObject().Select(e => $"{e.Name}: {string.Join(" ", e.Value.EnumerateArray().Select(m => m.GetString()))}");
                var named = string.Join("; ", fields);
                if (!text.Contains(named, StringComparison.Ordinal))
                    text = text.Length == 0 ? named : $"{text} ({named})";
            }
            return text;
        }
        catch (JsonException)
        {
            return body.Length > 300 ? body[..300] + "…" : body;
        }
    }

    async Task PrintErrorsAsync(Guid id, CancellationToken ct)
    {
        var table = new Table().Title("Row errors").AddColumns("line", "sku", "columns", "reason");
        var after = 0;
        while (true)
        {
            var page = (await http.GetFromJsonAsync<ErrorPage>($"/imports/{id}/errors?after={after}", Json, ct))!;
            foreach (var error in page.Errors)
                table.AddRow((error.Line ?? error.Row).ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(error.Sku ?? ""),
                    Markup.Escape(error.Columns ?? ""), Markup.Escape(error.Reason));
            if (page.NextAfter is not { } next)
                break;
            after = next;
        }
        if (table.Rows.Count > 0)
            console.Write(table);
    }
}
