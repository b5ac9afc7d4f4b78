using System.ComponentModel.DataAnnotations;

namespace Similarity.Imports.Pictures;

/// <summary><c>Similarity:Imports:ImageFetch</c>: how import jobs download pictures given by URL.</summary>
public sealed class ImageFetchOptions
{
    public const string Section = "Similarity:Imports:ImageFetch";

    /// <summary>The only hosts pictures may come from (exact names, case-insensitive); empty: any public host.</summary>
    public string[] AllowedHosts { get; set; } = [];

    /// <summary>Lets pictures come from 127.0.0.0/8 and ::1 — for tests and demos that serve them locally. Off by default.</summary>
    public bool AllowLoopback { get; set; }

    /// <summary>Bytes one picture may have, checked from Content-Length up front and on the bytes received.</summary>
    [Range(1, 512L * 1024 * 1024)] public long MaxBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Seconds one attempt may take, headers and body together.</summary>
    [Range(1, 300)] public int TimeoutSeconds { get; set; } = 15;

    /// <summary>Connections open to one host at once; further downloads from it wait their turn.</summary>
    [Range(1, 64)] public int MaxConcurrencyPerHost { get; set; } = 4;

    /// <summary>Downloads one import job keeps in flight at once, across hosts (each host also capped by <see cref="MaxConcurrencyPerHost"/>).</summary>
    [Range(1, 256)] public int MaxConcurrentDownloads { get; set; } = 16;

    /// <summary>Redirects followed per picture, each target checked like the first URL.</summary>
    public const int MaxRedirects = 3;
}
