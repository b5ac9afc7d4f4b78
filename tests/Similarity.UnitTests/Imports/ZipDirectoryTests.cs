using System.Buffers.Binary;
using System.IO.Compression;
using Similarity.Hosting;
using Similarity.Imports;

namespace Similarity.UnitTests.Imports;

/// <summary>The entry count and directory size a zip declares, read from its last bytes before ZipArchive loads anything.</summary>
public sealed class ZipDirectoryTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("zip-directory-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string Write(byte[] bytes)
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".zip");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static byte[] Zip(int entries, string? comment = null, int nameLength = 8)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            for (var i = 0; i < entries; i++)
                zip.CreateEntry(i.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(nameLength, 'e'), CompressionLevel.NoCompression);
            if (comment is not null)
                zip.Comment = comment;
        }
        return memory.ToArray();
    }

    static ImportOptions Limits(int maxEntries) => new() { SpoolPath = "/unused", MaxZipEntries = maxEntries };

    [Fact]
    public void A_plain_zip_declares_its_entries()
    {
        var summary = ZipDirectory.Read(Write(Zip(7, comment: "a comment after the record")))!.Value;
        Assert.Equal(7, summary.Entries);
        Assert.InRange(summary.DirectoryBytes, 7 * 46, 7 * (46 + 16));
    }

    [Fact]
    public void A_zip64_archive_declares_its_entries_in_the_zip64_record()
    {
        // More than 65 535 entries: the classic record says 0xFFFF and the ZIP64 record holds the count.
        var summary = ZipDirectory.Read(Write(Zip(70_000, nameLength: 5)))!.Value;
        Assert.Equal(70_000, summary.Entries);
    }

    [Fact]
    public void Too_many_entries_are_refused_from_the_count_alone_before_any_entry_is_read()
    {
        var zip = Zip(5);
        // Break every central directory header: ZipArchive could not even open this file.
        var directoryAt = BinaryPrimitives.ReadInt32LittleEndian(zip.AsSpan(zip.Length - 6));
        zip.AsSpan(directoryAt, 4).Fill(0xEE);
        var path = Write(zip);
        Assert.Throws<InvalidDataException>(() =>
        {
            using var archive = ZipFile.OpenRead(path);
            return archive.Entries.Count;
        });

        var refused = Assert.Throws<InputRejectedException>(() => ZipDirectory.Check(path, Limits(3)));
        Assert.Equal(InputRejection.OverLimit, refused.Reason);
        Assert.Contains("MaxZipEntries", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_count_that_understates_the_directory_is_refused()
    {
        var zip = Zip(50, nameLength: 100);
        // The record claims one entry, the directory holds fifty: ZipArchive would load all fifty first.
        BinaryPrimitives.WriteUInt16LittleEndian(zip.AsSpan(zip.Length - 22 + 8), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(zip.AsSpan(zip.Length - 22 + 10), 1);

        var refused = Assert.Throws<InputRejectedException>(() => ZipDirectory.Check(Write(zip), Limits(1000)));
        Assert.Contains("entry count is wrong", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(21)]
    [InlineData(5000)]
    public void A_file_without_the_record_is_not_a_zip(int length)
    {
        var path = Write(new byte[length]);
        Assert.Null(ZipDirectory.Read(path));
        Assert.Equal(InputRejection.Invalid, Assert.Throws<InputRejectedException>(() => ZipDirectory.Check(path, Limits(10))).Reason);
    }
}
