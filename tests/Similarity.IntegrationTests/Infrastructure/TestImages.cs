using System.Buffers.Binary;
using System.IO.Compression;
using NetVips;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>Images made in the test, so each case shows exactly what it feeds the service.</summary>
public static class TestImages
{
    /// <summary>A seeded-noise RGB image of the given size, encoded as <paramref name="suffix"/> (".png", ".jpg", ".webp", ".gif").</summary>
    public static byte[] Noise(int width, int height, int seed, string suffix = ".png")
    {
        var pixels = new byte[width * height * 3];
        new Random(seed).NextBytes(pixels);
        using var image = Image.NewFromMemory(pixels, width, height, 3, Enums.BandFormat.Uchar);
        return image.WriteToBuffer(suffix);
    }

    /// <summary>
    /// A <paramref name="width"/> × <paramref name="height"/> JPEG stored sideways with EXIF orientation 6 ("rotate 90°
    /// clockwise to view"), a title in its metadata: upright it is <paramref name="height"/> wide.
    /// </summary>
    public static byte[] SidewaysJpegWithMetadata(int width, int height, int seed)
    {
        using var image = Image.NewFromBuffer(Noise(width, height, seed, ".jpg"));
        using var tagged = image.Mutate(m =>
        {
            m.Set(GValue.GIntType, "orientation", 6);
            m.Set(GValue.GStrType, "exif-ifd0-ImageDescription", "secret camera notes");
        });
        return tagged.JpegsaveBuffer(keep: Enums.ForeignKeep.All);
    }

    /// <summary>The same picture resized to <paramref name="width"/> pixels wide and re-encoded.</summary>
    public static byte[] Resized(byte[] encoded, int width, string suffix)
    {
        using var image = Image.NewFromBuffer(encoded);
        using var resized = image.Resize((double)width / image.Width);
        return resized.WriteToBuffer(suffix);
    }

    /// <summary>
    /// The pixel bomb: 6 324 × 6 324 RGBA at 16 bits a sample, interlaced. 40 MP, under the pixel limit,
    /// but 320 MB once decoded, and libvips cannot decode an interlaced PNG row by row. Flat black here, so the
    /// file is ~310 KB (the was 486 KB; the header is what matters). Made once: writing it takes a second.
    /// </summary>
    public static byte[] SixteenBitPngBomb => LazyBomb.Value;

    static readonly Lazy<byte[]> LazyBomb = new(() =>
    {
        using var black = Image.Black(6324, 6324, bands: 4);
        using var wide = black.Cast(Enums.BandFormat.Ushort);
        using var rgba16 = wide.Copy(interpretation: Enums.Interpretation.Rgb16);
        return rgba16.PngsaveBuffer(interlace: true);
    });

    /// <summary>A JPEG cut off half-way through its scan data.</summary>
    public static byte[] TruncatedJpeg()
    {
        var jpeg = Noise(256, 256, 3, ".jpg");
        return jpeg[..(jpeg.Length / 2)];
    }

    /// <summary>
    /// A valid PNG that declares <paramref name="width"/> × <paramref name="height"/> pixels but carries only one
    /// compressed row: decoding it would need gigabytes, reading its header needs nothing.
    /// </summary>
    public static byte[] PngDeclaring(int width, int height)
    {
        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // RGB
        WriteChunk(output, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
                zlib.Write(new byte[1 + width * 3]);
            WriteChunk(output, "IDAT", compressed.ToArray());
        }
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    static void WriteChunk(Stream output, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        var typeAndData = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        output.Write(typeAndData);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        output.Write(crc);
    }

    // PNG's CRC-32 (ISO 3309), bit by bit: test-only, so clarity over speed.
    static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
