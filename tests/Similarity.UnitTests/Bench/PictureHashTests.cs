using NetVips;
using Similarity.Bench;

namespace Similarity.UnitTests.Bench;

/// <summary>The perceptual hashes on grids small enough to read by hand, and on pictures made here and re-encoded.</summary>
public sealed class PictureHashTests
{
    [Fact]
    public void Distance_counts_the_differing_bits()
    {
        Assert.Equal(0, PictureHash.Distance(0x5A, 0x5A));
        Assert.Equal(3, PictureHash.Distance(0b1011, 0b0001 | 0b0100));
        Assert.Equal(64, PictureHash.Distance(0, -1));
    }

    [Fact]
    public void DHash_sets_a_bit_where_a_cell_is_darker_than_its_right_neighbour()
    {
        // Row 0 brightens to the right (all 8 bits set), row 1 darkens (none), rows 2–7 are flat (none), but for
        // row 7 whose cell 3 is darker than cell 4 (bit 7·8+3).
        var grid = new byte[9 * 8];
        for (var x = 0; x < 9; x++)
        {
            grid[x] = (byte)(10 * x);
            grid[9 + x] = (byte)(200 - 10 * x);
            for (var y = 2; y < 8; y++)
                grid[y * 9 + x] = 100;
        }
        grid[7 * 9 + 3] = 50;

        Assert.Equal(0xFFL | 1L << 59, PictureHash.DifferenceOfGrey(grid));
    }

    [Fact]
    public void PHash_ignores_overall_brightness_and_transposes_with_the_picture()
    {
        var random = new Random(7);
        var grid = new byte[32 * 32];
        random.NextBytes(grid);
        for (var i = 0; i < grid.Length; i++)
            grid[i] = (byte)(grid[i] / 2);
        var brighter = grid.Select(p => (byte)(p + 60)).ToArray();
        var transposed = new byte[32 * 32];
        for (var y = 0; y < 32; y++)
            for (var x = 0; x < 32; x++)
                transposed[x * 32 + y] = grid[y * 32 + x];

        var hash = PictureHash.DctOfGrey(grid);

        // Only the constant term moves with brightness, and it takes no part in the hash.
        Assert.Equal(hash, PictureHash.DctOfGrey(brighter));
        // Coefficient (u, v) of the transposed picture is (v, u) of the original: bit v·8+u moves to u·8+v.
        long swapped = 0;
        for (var v = 0; v < 8; v++)
            for (var u = 0; u < 8; u++)
                if ((hash >> (v * 8 + u) & 1) != 0)
                    swapped |= 1L << (u * 8 + v);
        Assert.Equal(swapped, PictureHash.DctOfGrey(transposed));
        Assert.Equal(0, hash & 1);
        Assert.Equal(31, PictureHash.Distance(hash, 0));
    }

    [Fact]
    public void A_half_size_JPEG_of_a_picture_keeps_its_hashes_and_another_picture_does_not()
    {
        var picture = Drawing(disc: (70, 60, 40), bar: (20, 150, 160, 30));
        var other = Drawing(disc: (150, 150, 40), bar: (120, 20, 30, 160));
        using var image = Image.NewFromBuffer(picture);
        using var half = image.Resize(0.5);
        var reencoded = half.JpegsaveBuffer(q: 60);

        Assert.InRange(PictureHash.Distance(PictureHash.Dct(picture), PictureHash.Dct(reencoded)), 0, 4);
        Assert.InRange(PictureHash.Distance(PictureHash.Difference(picture), PictureHash.Difference(reencoded)), 0, 4);
        Assert.InRange(PictureHash.Distance(PictureHash.Dct(picture), PictureHash.Dct(other)), 16, 64);
        Assert.InRange(PictureHash.Distance(PictureHash.Difference(picture), PictureHash.Difference(other)), 16, 64);
    }

    /// <summary>A 200 × 200 PNG: white, a dark disc and a grey bar (left, top, width, height).</summary>
    static byte[] Drawing((int X, int Y, int R) disc, (int Left, int Top, int Width, int Height) bar)
    {
        var pixels = new byte[200 * 200];
        for (var y = 0; y < 200; y++)
            for (var x = 0; x < 200; x++)
            {
                var inDisc = (x - disc.X) * (x - disc.X) + (y - disc.Y) * (y - disc.Y) <= disc.R * disc.R;
                var inBar = x >= bar.Left && x < bar.Left + bar.Width && y >= bar.Top && y < bar.Top + bar.Height;
                pixels[y * 200 + x] = inDisc ? (byte)20 : inBar ? (byte)120 : (byte)255;
            }
        using var image = Image.NewFromMemory(pixels, 200, 200, 1, Enums.BandFormat.Uchar);
        return image.PngsaveBuffer();
    }
}
