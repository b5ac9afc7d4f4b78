using Microsoft.Extensions.Options;

namespace Similarity.Imports;

/// <summary>
/// The spool: each job's upload in a folder of its own under <c>Similarity:Imports:SpoolPath</c>. Uploads are
/// a shop's whole catalog, so only the service's own user may read them: folders 0700, files 0600.
/// </summary>
public sealed class ImportSpool(IOptions<ImportOptions> options)
{
    const UnixFileMode FolderPermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    const UnixFileMode FilePermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public string Root => options.Value.SpoolPath;

    /// <summary>Creates the job's folder (and the spool itself when missing), both 0700.</summary>
    public string CreateJobFolder(Guid id)
    {
        EnsureRoot();
        var folder = Path.Combine(Root, id.ToString("N"));
        Directory.CreateDirectory(folder, FolderPermissions);
        return folder;
    }

    /// <summary>A new file, 0600 from its creation on (never briefly readable by others).</summary>
    public static FileStream CreateFile(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FilePermissions,
    });

    /// <summary>
    /// Removes a job's upload: exactly the files the service wrote, then their folder. Something else put in
    /// that folder makes this throw rather than be deleted unseen.
    /// </summary>
    public static void Delete(ImportJob job)
    {
        File.Delete(job.CatalogPath);
        if (job.ImagesPath is not null)
            File.Delete(job.ImagesPath);
        if (Path.GetDirectoryName(job.CatalogPath) is { } folder && Directory.Exists(folder))
            Directory.Delete(folder);
    }

    /// <summary>Whether the job's upload is still there to run from.</summary>
    public static bool HasUpload(ImportJob job) => File.Exists(job.CatalogPath) && (job.ImagesPath is null || File.Exists(job.ImagesPath));

    /// <summary>Null when uploads can be written; else why not (the exception goes to the caller's log).</summary>
    public Exception? Problem()
    {
        try
        {
            EnsureRoot();
            var probe = Path.Combine(Root, $".probe-{Guid.NewGuid():N}");
            using (CreateFile(probe))
            {
            }
            File.Delete(probe);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex;
        }
    }

    void EnsureRoot()
    {
        Directory.CreateDirectory(Root, FolderPermissions);
        // A folder made earlier, by hand or by an older build, may be wider: narrow it.
        if ((File.GetUnixFileMode(Root) & ~FolderPermissions) != 0)
            File.SetUnixFileMode(Root, FolderPermissions);
    }
}
