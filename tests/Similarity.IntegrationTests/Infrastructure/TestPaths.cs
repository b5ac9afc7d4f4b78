namespace Similarity.IntegrationTests.Infrastructure;

public static class TestPaths
{
    /// <summary>The checkout's root: the folder above the test binaries that holds Similarity.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The seeded tiny models that ./similarity.sh generates before the tests run.</summary>
    public static string TinyModels => Path.Combine(Root, "models", "tiny");

    public static string TinyManifest => Path.Combine(TinyModels, "manifest.json");

    /// <summary>A model set's folder under models/: committed (clipart) or made by ./similarity.sh test (smoke, resnet50-untrained).</summary>
    public static string Models(string set) => Path.Combine(Root, "models", set);

    /// <summary>Debian's chromium, which ./similarity.sh test installs; Playwright drives it by this path.</summary>
    public static string Chromium => "/usr/bin/chromium";

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Similarity.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("Similarity.sln not found above " + AppContext.BaseDirectory);
    }
}
