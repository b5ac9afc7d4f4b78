namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>Debian's openclipart drawings (./similarity.sh test installs openclipart-png): real pictures, picked deterministically.</summary>
public static class Clipart
{
    public const string Root = "/usr/share/openclipart/png";

    /// <summary>The first <paramref name="count"/> drawings of a top-level folder, in path order (files, not symlinks).</summary>
    public static IReadOnlyList<string> Drawings(string folder, int count) =>
        [.. Directory.EnumerateFiles(Path.Combine(Root, folder), "*.png", SearchOption.AllDirectories)
            .Where(path => new FileInfo(path).LinkTarget is null)
            .Order(StringComparer.Ordinal)
            .Take(count)];
}
