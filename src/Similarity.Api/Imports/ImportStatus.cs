namespace Similarity.Imports;

/// <summary>
/// An import job's status, spelled as the API answers it and as <c>import_jobs.status</c> stores it (one spelling
/// for both). A job is queued, then running; it ends succeeded (with errors when any row was rejected), failed
/// (resumable while its upload is kept) or cancelled.
/// </summary>
public static class ImportStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string SucceededWithErrors = "succeeded_with_errors";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>The statuses a worker may claim a job in, as an SQL list: <c>status IN (…)</c>.</summary>
    internal const string OpenSql = $"'{Queued}', '{Running}'";
}
