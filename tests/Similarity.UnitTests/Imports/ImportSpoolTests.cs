using Microsoft.Extensions.Options;
using Similarity.Imports;

namespace Similarity.UnitTests.Imports;

/// <summary>Uploads are a shop's whole catalog: only the service's own user may read the spool.</summary>
public sealed class ImportSpoolTests : IDisposable
{
    const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    readonly string _parent = Directory.CreateTempSubdirectory("spool-test-").FullName;

    public void Dispose() => Directory.Delete(_parent, recursive: true);

    ImportSpool SpoolAt(string root) => new(Options.Create(new ImportOptions { SpoolPath = root }));

    [Fact]
    public void A_missing_spool_and_each_job_folder_are_created_0700_and_files_0600()
    {
        var spool = SpoolAt(Path.Combine(_parent, "new", "spool"));
        var folder = spool.CreateJobFolder(Guid.NewGuid());
        using (ImportSpool.CreateFile(Path.Combine(folder, "catalog.csv")))
        {
        }

        Assert.Equal(Private, File.GetUnixFileMode(spool.Root));
        Assert.Equal(Private, File.GetUnixFileMode(folder));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, "catalog.csv")));
    }

    [Fact]
    public void A_spool_made_wider_by_hand_is_narrowed()
    {
        var root = Path.Combine(_parent, "wide");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, Private | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        SpoolAt(root).CreateJobFolder(Guid.NewGuid());

        Assert.Equal(Private, File.GetUnixFileMode(root));
    }

    [Fact]
    public void A_spool_that_cannot_be_written_is_a_problem_not_an_exception()
    {
        var root = Path.Combine(_parent, "a-file");
        File.WriteAllText(root, "not a folder");
        Assert.IsAssignableFrom<IOException>(SpoolAt(root).Problem());
        Assert.Null(SpoolAt(Path.Combine(_parent, "fine")).Problem());
    }
}
