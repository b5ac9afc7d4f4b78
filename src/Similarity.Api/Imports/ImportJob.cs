namespace Similarity.Imports;

/// <summary>An import job as stored. <see cref="Format"/> is the format it reads: native, merchant-center, shopify or mapped.
/// <see cref="Errors"/> counts rejected rows (not stored), <see cref="Warnings"/> rows stored with a warning; both are listed.</summary>
public sealed record ImportJob(
    Guid Id, string? IdempotencyKey, byte[] BodySha256, string Format, string CatalogPath, string? ImagesPath, string Status,
    int? TotalRows, int ProcessedRows, int Inserted, int Updated, int Unchanged, int Superseded, int Errors, string? Error,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, ImportReading Reading, int PicturesDownloaded, int Reembedded,
    int Warnings, string? FileName)
{
    /// <summary>Longest message a failed job keeps for its owner.</summary>
    public const int MaxErrorLength = 1000;
}
