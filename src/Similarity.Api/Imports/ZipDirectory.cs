using System.Buffers.Binary;
using Similarity.Hosting;

namespace Similarity.Imports;

/// <summary>
/// What a zip declares about its central directory — the entry count and the directory's size — read from the
/// end-of-central-directory record (ZIP64's when present) in the file's last bytes. Written by hand because
/// System.IO.Compression's ZipArchive builds an object for every entry of the central directory the first time
/// its entries are asked for, even for their count.
/// </summary>
public static class ZipDirectory
{
    public readonly record struct Summary(long Entries, long DirectoryBytes);

    const uint EndSignature = 0x06054b50, Zip64LocatorSignature = 0x07064b50, Zip64EndSignature = 0x06064b50;
    const int EndLength = 22, Zip64LocatorLength = 20, Zip64EndLength = 56, MaxCommentLength = ushort.MaxValue;

    /// <summary>
    /// Bytes of central directory allowed per declared entry: its 46 fixed bytes and a generous name and extra
    /// fields. A directory larger than its count needs is one whose count lies, and ZipArchive would load it whole.
    /// </summary>
    public const int MaxDirectoryBytesPerEntry = 1024;

    /// <summary>The zip's summary, or null when the file has no end-of-central-directory record (not a zip).</summary>
    public static Summary? Read(string path)
    {
        using var file = File.OpenRead(path);
        var tailLength = (int)Math.Min(file.Length, EndLength + MaxCommentLength);
        var tail = new byte[tailLength];
        file.Seek(-tailLength, SeekOrigin.End);
        file.ReadExactly(tail);

        // The record sits before a comment of up to 64 KiB: search backwards for its signature.
        for (var at = tailLength - EndLength; at >= 0; at--)
        {
            var end = tail.AsSpan(at);
            if (BinaryPrimitives.ReadUInt32LittleEndian(end) != EndSignature
                || at + EndLength + BinaryPrimitives.ReadUInt16LittleEndian(end[20..]) > tailLength)
                continue;
            long entries = BinaryPrimitives.ReadUInt16LittleEndian(end[10..]);
            long directoryBytes = BinaryPrimitives.ReadUInt32LittleEndian(end[12..]);

            // ZIP64 (more than 65 535 entries or 4 GiB): a locator right before the record points at the real counts.
            var locatorAt = file.Length - tailLength + at - Zip64LocatorLength;
            if (locatorAt >= 0 && ReadZip64(file, locatorAt) is { } zip64)
                return zip64;
            return new Summary(entries, directoryBytes);
        }
        return null;
    }

    static Summary? ReadZip64(FileStream file, long locatorAt)
    {
        Span<byte> locator = stackalloc byte[Zip64LocatorLength];
        file.Seek(locatorAt, SeekOrigin.Begin);
        file.ReadExactly(locator);
        if (BinaryPrimitives.ReadUInt32LittleEndian(locator) != Zip64LocatorSignature)
            return null;
        var recordAt = BinaryPrimitives.ReadInt64LittleEndian(locator[8..]);
        if (recordAt < 0 || recordAt > file.Length - Zip64EndLength)
            return null;
        Span<byte> record = stackalloc byte[Zip64EndLength];
        file.Seek(recordAt, SeekOrigin.Begin);
        file.ReadExactly(record);
        if (BinaryPrimitives.ReadUInt32LittleEndian(record) != Zip64EndSignature)
            return null;
        return new Summary(BinaryPrimitives.ReadInt64LittleEndian(record[32..]), BinaryPrimitives.ReadInt64LittleEndian(record[40..]));
    }

    /// <summary>Refuses (4xx, naming the limit) a file that is not a zip, has too many entries, or a directory its count cannot explain.</summary>
    public static void Check(string path, ImportOptions options)
    {
        if (Read(path) is not { } zip)
            throw new InputRejectedException("images", "The images file is not a zip: it has no end-of-central-directory record.");
        if (zip.Entries > options.MaxZipEntries)
            throw new InputRejectedException("images", $"The zip has {zip.Entries} entries; the limit (Similarity:Imports:MaxZipEntries) is {options.MaxZipEntries}.", InputRejection.OverLimit);
        if (zip.Entries < 0 || zip.DirectoryBytes < 0 || zip.DirectoryBytes > Math.Max(1, zip.Entries) * MaxDirectoryBytesPerEntry)
            throw new InputRejectedException("images", $"The zip's central directory ({zip.DirectoryBytes} bytes) is larger than its {zip.Entries} declared entries can need ({MaxDirectoryBytesPerEntry} bytes each): its entry count is wrong.");
    }
}
