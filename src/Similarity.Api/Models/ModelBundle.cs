using System.IO.Compression;
using System.Text.RegularExpressions;

namespace Similarity.Models;

/// <summary>Why an uploaded bundle was refused: a 422 ProblemDetails with this text as its detail.</summary>
public sealed class ModelBundleException(string message) : Exception(message);

/// <summary>
/// A model bundle: a zip of the files a manifest names (manifest.json, the two ONNX exports, the vocabulary, the
/// fusion weights), at its root or in one folder. Unpacked with System.IO.Compression under limits: entries, bytes
/// unpacked, and no entry outside the target folder.
/// </summary>
public static partial class ModelBundle
{
    public const int MaxEntries = 64;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NameRule();

    public const string NameRuleText = "1 to 64 letters, digits, '.', '_' or '-'";

    public static bool IsValidName(string name) => NameRule().IsMatch(name) && name is not ("." or "..");

    /// <summary>Unpacks <paramref name="zipFile"/> into <paramref name="target"/>; returns the manifest's path.</summary>
    public static string Extract(string zipFile, string target, long maxBytes)
    {
        ZipArchive archive;
        try
        {
            archive = ZipFile.OpenRead(zipFile);
        }
        catch (InvalidDataException)
        {
            throw new ModelBundleException("The body is not a zip archive.");
        }
        using (archive)
        {
            if (archive.Entries.Count > MaxEntries)
                throw new ModelBundleException($"The bundle has {archive.Entries.Count} entries; at most {MaxEntries} are accepted.");
            // Declared sizes first, so a bundle too large is refused before anything is written.
            var declared = archive.Entries.Sum(e => e.Length);
            if (declared > maxBytes)
                throw new ModelBundleException($"The bundle unpacks to {declared} bytes; at most {maxBytes} are accepted (Similarity:Models:MaxBundleBytes).");
            var root = Path.GetFullPath(target) + Path.DirectorySeparatorChar;
            Directory.CreateDirectory(root);
            long written = 0;
            foreach (var entry in archive.Entries)
            {
                var path = Path.GetFullPath(Path.Combine(root, entry.FullName));
                if (!path.StartsWith(root, StringComparison.Ordinal))
                    throw new ModelBundleException($"The bundle's entry '{entry.FullName}' points outside the bundle.");
                if (entry.FullName.EndsWith('/'))
                {
                    Directory.CreateDirectory(path);
                    continue;
                }
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var source = entry.Open();
                using var destination = File.Create(path);
                // Counted as written, not as declared: a zip's declared sizes can lie.
                var buffer = new byte[81920];
                int read;
                try
                {
                    while ((read = source.Read(buffer)) > 0)
                    {
                        written += read;
                        if (written > maxBytes)
                            throw new ModelBundleException($"The bundle unpacks to more than {maxBytes} bytes (Similarity:Models:MaxBundleBytes).");
                        destination.Write(buffer, 0, read);
                    }
                }
                catch (InvalidDataException ex)
                {
                    throw new ModelBundleException($"The bundle's entry '{entry.FullName}' cannot be unpacked: {ex.Message}");
                }
            }
            var atRoot = Path.Combine(root, "manifest.json");
            if (File.Exists(atRoot))
                return atRoot;
            var inFolder = Directory.GetDirectories(root).Select(d => Path.Combine(d, "manifest.json")).Where(File.Exists).ToList();
            return inFolder.Count == 1 ? inFolder[0]
                : throw new ModelBundleException("The bundle has no manifest.json, at its root or in one folder (see models/README.md).");
        }
    }
}
