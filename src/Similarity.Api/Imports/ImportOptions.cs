using System.ComponentModel.DataAnnotations;

namespace Similarity.Imports;

/// <summary><c>Similarity:Imports</c>: where uploads are spooled, what an upload may hold, how jobs ride out faults.</summary>
public sealed class ImportOptions
{
    public const string Section = "Similarity:Imports";

    /// <summary>
    /// Folder uploads are streamed to (kept 0700, files 0600); it must survive restarts for jobs to resume, so
    /// there is no default (a temp folder would not): the start fails naming the key when it is not set.
    /// </summary>
    [Required(ErrorMessage = "Similarity:Imports:SpoolPath is not set: the folder where uploads are kept until their job ends (it must survive restarts).")]
    public string SpoolPath { get; set; } = "";

    [Range(1, 1L << 40)] public long MaxUploadBytes { get; set; } = 2L << 30;

    [Range(1, 100_000_000)] public int MaxRows { get; set; } = 5_000_000;

    [Range(1, 10_000_000)] public int MaxZipEntries { get; set; } = 1_000_000;

    /// <summary>Uncompressed bytes the images zip may hold in all, counted on the bytes actually read.</summary>
    [Range(1, 1L << 42)] public long MaxZipUncompressedBytes { get; set; } = 20L << 30;

    /// <summary>An entry that inflates more than this many times its compressed size is refused as a bomb.</summary>
    [Range(2, 100_000)] public int MaxCompressionRatio { get; set; } = 200;

    /// <summary>Rows per committed batch; a multiple of the encoders' batch keeps them full.</summary>
    [Range(1, 10_000)] public int BatchSize { get; set; } = 64;

    /// <summary>Jobs one service instance runs at once.</summary>
    [Range(1, 16)] public int Workers { get; set; } = 1;

    /// <summary>
    /// Retries of a batch after a transient database fault (lost connection, restart, serialization failure,
    /// deadlock), with exponential backoff from <see cref="RetryDelayMilliseconds"/>; the defaults ride out a
    /// restart of about half a minute. Past them the job is failed, keeps its upload and can be resumed.
    /// </summary>
    [Range(0, 100)] public int RetryAttempts { get; set; } = 6;

    [Range(1, 60_000)] public int RetryDelayMilliseconds { get; set; } = 500;
}
