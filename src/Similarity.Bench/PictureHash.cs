using System.Numerics;
using Similarity.Insight;

namespace Similarity.Bench;

/// <summary>
/// Perceptual hashes of a picture: 64 bits that a resize or a JPEG re-encode leaves within a few bits, read from a
/// small grey copy flattened on white. <see cref="Difference"/> (dHash) compares neighbouring cells of a 9 × 8 copy;
/// <see cref="Dct"/> (pHash) compares the 8 × 8 lowest frequencies of a 32 × 32 copy with their median, which a
/// small shift or crop moves less. Hand-written: no served NuGet package hashes pictures perceptually (the known ones
/// need ImageSharp, which the service does not carry); the maths is a few lines over PictureSketch.Grey.
/// </summary>
public static class PictureHash
{
    /// <summary>The bits two hashes differ in, 0 to 64.</summary>
    public static int Distance(long a, long b) => BitOperations.PopCount((ulong)(a ^ b));

    /// <summary>dHash: bit y·8+x is set when cell (x, y) is darker than (x+1, y).</summary>
    public static long Difference(byte[] picture) => DifferenceOfGrey(PictureSketch.Grey(picture, 9, 8));

    /// <summary>dHash of a 9 × 8 grey copy given row by row.</summary>
    public static long DifferenceOfGrey(ReadOnlySpan<byte> grey9x8)
    {
        ulong bits = 0;
        for (var y = 0; y < 8; y++)
            for (var x = 0; x < 8; x++)
                if (grey9x8[y * 9 + x] < grey9x8[y * 9 + x + 1])
                    bits |= 1UL << (y * 8 + x);
        return (long)bits;
    }

    /// <summary>pHash: bit v·8+u is set when DCT coefficient (u, v) of the 32 × 32 copy is over the median of the 63 non-constant ones.</summary>
    public static long Dct(byte[] picture) => DctOfGrey(PictureSketch.Grey(picture, 32, 32));

    /// <summary>pHash of a 32 × 32 grey copy given row by row.</summary>
    public static long DctOfGrey(ReadOnlySpan<byte> grey32)
    {
        const int n = 32;
        var cos = new double[8, n];
        for (var u = 0; u < 8; u++)
            for (var x = 0; x < n; x++)
                cos[u, x] = Math.Cos((2 * x + 1) * u * Math.PI / (2 * n));
        var rows = new double[n, 8];
        for (var y = 0; y < n; y++)
            for (var u = 0; u < 8; u++)
            {
                var sum = 0.0;
                for (var x = 0; x < n; x++)
                    sum += grey32[y * n + x] * cos[u, x];
                rows[y, u] = sum;
            }
        var coefficients = new double[64];
        for (var v = 0; v < 8; v++)
            for (var u = 0; u < 8; u++)
            {
                var sum = 0.0;
                for (var y = 0; y < n; y++)
                    sum += rows[y, u] * cos[v, y];
                coefficients[v * 8 + u] = sum;
            }
        // The constant term says only how bright the picture is: it takes no part in the median.
        var median = coefficients.Skip(1).Order().ElementAt(31);
        ulong bits = 0;
        for (var i = 1; i < 64; i++)
            if (coefficients[i] > median)
                bits |= 1UL << i;
        return (long)bits;
    }
}
