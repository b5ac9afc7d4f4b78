using System.IO.Compression;
using Similarity.Hosting;

namespace Similarity.Imports;

/// <summary>
/// The untrusted images zip. Entries are never extracted to disk: they are read into memory on demand, with the
/// limits enforced on the bytes actually inflated, never on the sizes the zip's headers declare.
/// </summary>
public sealed class ImageArchive : IDisposable
{
    readonly ZipArchive _zip;
    readonly Dictionary<string, ZipArchiveEntry> _entries;
    readonly ImportOptions _options;
    readonly long _maxEntryBytes;

    ImageArchive(ZipArchive zip, Dictionary<string, ZipArchiveEntry> entries, ImportOptions options, long maxEntryBytes) =>
        (_zip, _entries, _options, _maxEntryBytes) = (zip, entries, options, maxEntryBytes);

    /// <summary>
    /// Opens the zip and refuses it whole for too many entries (counted before any entry is loaded), a path
    /// escaping the archive or an absolute path.
    /// </summary>
    public static ImageArchive Open(string path, ImportOptions options, long maxEntryBytes)
    {
        ZipDirectory.Check(path, options);
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException ex)
        {
            throw new InputRejectedException("images", $"The images file is not a readable zip: {ex.Message}");
        }
        try
        {
            var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                var name = entry.FullName.Replace('\\', '/');
                if (name.StartsWith('/') || Path.IsPathRooted(name) || name.Split('/').Any(part => part == ".."))
                    throw new InputRejectedException("images", $"The zip entry '{entry.FullName}' points outside the archive; refused.");
                if (!name.EndsWith('/'))
                    entries[name] = entry;
            }
            return new ImageArchive(zip, entries, options, maxEntryBytes);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Inflates every entry once, counting real bytes: refuses the archive when the total passes the limit or
    /// an entry inflates past the compression ratio. Run by the job before its first row, so a bomb imports nothing.
    /// </summary>
    public void CheckInflation()
    {
        long total = 0;
        var buffer = new byte[81920];
        foreach (var entry in _entries.Values)
        {
            using var stream = entry.Open();
            long read = 0;
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                read += n;
                total += n;
                if (total > _options.MaxZipUncompressedBytes)
                    throw new InputRejectedException("images", $"The zip inflates past {_options.MaxZipUncompressedBytes} bytes (Similarity:Imports:MaxZipUncompressedBytes).", InputRejection.OverLimit);
                if (read > 1024 * 1024 && read > (long)_options.MaxCompressionRatio * Math.Max(1, entry.CompressedLength))
                    throw new InputRejectedException("images", $"The zip entry '{entry.FullName}' inflates more than {_options.MaxCompressionRatio} times its size (Similarity:Imports:MaxCompressionRatio): refused as a zip bomb.", InputRejection.OverLimit);
            }
        }
    }

    /// <summary>The entry's bytes, read with a cap; null when the entry is missing.</summary>
    public byte[]? Read(string name)
    {
        if (!_entries.TryGetValue(Normalize(name), out var entry))
            return null;
        lock (_zip)
        {
            using var stream = entry.Open();
            using var memory = new MemoryStream();
            var buffer = new byte[81920];
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                if (memory.Length + n > _maxEntryBytes)
                    throw new InputRejectedException("image", $"The image '{name}' is over {_maxEntryBytes} bytes (Similarity:Limits:MaxImageBytes).", InputRejection.OverLimit);
                memory.Write(buffer, 0, n);
            }
            return memory.ToArray();
        }
    }

    static string Normalize(string name)
    {
        name = name.Replace('\\', '/');
        while (name.StartsWith("./", StringComparison.Ordinal))
            name = name[2..];
        return name.TrimStart('/');
    }

    public void Dispose() => _zip.Dispose();
}
