using System.ComponentModel.DataAnnotations;

namespace Similarity.Database;

/// <summary>
/// Section <c>Similarity:Database</c>: how reads use standbys when <c>ConnectionStrings:Similarity</c> lists several
/// hosts. With one host none of these matter: every statement goes to that host, as before.
/// </summary>
public sealed class DatabaseOptions
{
    public const string Section = "Similarity:Database";

    /// <summary>A standby further behind the primary than this is left out of the reads until it catches up.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan MaxStandbyLag { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often every host's role and replay position are read (not per request).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan StandbyCheckPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a read that carries a consistency token (or an admin's read) waits for the standbys to replay it;
    /// past it, the standbys still behind are left out of the reads until they have, so the read goes to one that has
    /// or to the primary.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:05")]
    public TimeSpan ConsistencyWait { get; set; } = TimeSpan.FromMilliseconds(90);
}
