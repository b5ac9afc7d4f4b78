using System.ComponentModel.DataAnnotations;

namespace Similarity.Keys;

/// <summary><c>Similarity:Keys</c>: how long a key found in the database is trusted without asking it again.</summary>
public sealed class KeysOptions
{
    public const string Section = "Similarity:Keys";

    /// <summary>
    /// Seconds a recognised key stays in this instance's memory. A key revoked here stops at once; on another instance
    /// of the service it stops within this many seconds. 0 asks the database on every request that sends a key.
    /// </summary>
    [Range(0, 300)] public int CacheSeconds { get; set; } = 5;
}
