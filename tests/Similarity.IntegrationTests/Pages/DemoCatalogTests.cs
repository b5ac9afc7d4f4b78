using System.Diagnostics;
using System.IO.Compression;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Pages;

/// <summary>
/// The demo's catalog (models/train/demo_catalog.py, what <c>./similarity.sh demo</c> imports), written small: the
/// same bytes every run, and every row taken by the real import.
/// </summary>
public sealed class DemoCatalogTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    static async Task<string> WriteAsync(int count)
    {
        var folder = Directory.CreateTempSubdirectory("similarity-demo-").FullName;
        using var python = Process.Start(new ProcessStartInfo("/usr/bin/python3",
            [Path.Combine(TestPaths.Root, "models", "train", "demo_catalog.py"), folder, count.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var errors = await python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, errors);
        return folder;
    }

    [Fact]
    public async Task The_demo_catalog_is_the_same_every_run_and_imports_without_a_rejected_row()
    {
        var first = await WriteAsync(25);
        var second = await WriteAsync(25);
        try
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(first, "catalog.csv")), await File.ReadAllBytesAsync(Path.Combine(second, "catalog.csv")));
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(first, "pictures.zip")), await File.ReadAllBytesAsync(Path.Combine(second, "pictures.zip")));
            var lines = await File.ReadAllLinesAsync(Path.Combine(first, "catalog.csv"));
            Assert.Equal(26, lines.Length);
            using (var zip = ZipFile.OpenRead(Path.Combine(first, "pictures.zip")))
                Assert.Equal(25, zip.Entries.Count);

            var admin = app.CreateAdminClient();
            var job = await admin.WaitForEndAsync((await admin.StartAsync(ImportClient.Form(
                await File.ReadAllTextAsync(Path.Combine(first, "catalog.csv")), imagesZip: await File.ReadAllBytesAsync(Path.Combine(first, "pictures.zip"))))).Id);
            Assert.Equal("succeeded", job.Status);
            Assert.Equal(25, job.Counts.Inserted);
        }
        finally
        {
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
    }
}
