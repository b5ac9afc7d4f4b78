using NetVips;
using Similarity.Insight;

namespace Similarity.UnitTests.Insight;

/// <summary>Picture sketches and their match, on drawings made here: copies match, a crop matches its window, a mirror does not.</summary>
public sealed class PictureSketchTests
{
    static readonly byte[] Original = Drawing(flip: false);

    [Fact]
    public void A_sketch_is_48_by_48_grey_bytes_white_where_the_picture_is_white()
    {
        var sketch = PictureSketch.Of(Original);

        Assert.Equal(48 * 48, sketch.Length);
        Assert.Equal(255, sketch[0]); // the top-left corner of the drawing is white
        Assert.InRange(sketch[20 * 48 + 14], 0, 40); // inside the dark disc (centre 60, 80 of 200 → 14.4, 19.2 of 48)
    }

    [Fact]
    public void A_sketch_matches_itself_fully_and_the_match_is_symmetric()
    {
        var (a, b) = (PictureSketch.Of(Original), PictureSketch.Of(Drawing(flip: true)));

        Assert.InRange(PictureSketch.Match(a, a), 0.999999, 1.000001);
        Assert.Equal(PictureSketch.Match(a, b), PictureSketch.Match(b, a), 6);
    }

    [Theory]
    [InlineData(10, 20, 170)] // 85% from (5%, 10%): on the coarse grid of windows
    [InlineData(15, 15, 170)] // 85% from the centre (7.5%): between its points
    [InlineData(7, 23, 176)] // 88% from (3.5%, 11.5%): neither size nor offsets on the grid
    public void A_resized_jpeg_and_a_crop_match_but_the_mirror_image_does_not(int left, int top, int side)
    {
        using var image = Image.NewFromBuffer(Original);
        using var half = image.Resize(0.5);
        using var crop = image.Crop(left, top, side, side);
        var original = PictureSketch.Of(Original);

        Assert.InRange(PictureSketch.Match(original, PictureSketch.Of(half.JpegsaveBuffer(q: 60))), 0.98, 1.000001);
        var cropped = PictureSketch.Of(crop.PngsaveBuffer());
        Assert.InRange(PictureSketch.Match(original, cropped), 0.97, 1.000001);
        // The whole sketches, unaligned, correlate less: the window search is what finds the crop.
        Assert.True(Whole(original, cropped) < PictureSketch.Match(original, cropped) - 0.05);
        Assert.InRange(PictureSketch.Match(original, PictureSketch.Of(Drawing(flip: true))), -1, 0.9);
    }

    [Fact]
    public void A_sketch_of_another_size_is_refused()
    {
        Assert.Throws<ArgumentException>(() => PictureSketch.Match(new byte[48 * 48], new byte[32 * 32]));
    }

    /// <summary>Pearson correlation of two whole sketches, written out here.</summary>
    static double Whole(byte[] a, byte[] b)
    {
        var (meanA, meanB) = (a.Average(x => (double)x), b.Average(x => (double)x));
        double ab = 0, aa = 0, bb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            ab += (a[i] - meanA) * (b[i] - meanB);
            aa += (a[i] - meanA) * (a[i] - meanA);
            bb += (b[i] - meanB) * (b[i] - meanB);
        }
        return ab / Math.Sqrt(aa * bb);
    }

    /// <summary>A 200 × 200 PNG: white, a dark disc at the upper left and a grey bar at the lower right; mirrored left to right when asked.</summary>
    static byte[] Drawing(bool flip)
    {
        var pixels = new byte[200 * 200];
        for (var y = 0; y < 200; y++)
            for (var x = 0; x < 200; x++)
            {
                var inDisc = (x - 60) * (x - 60) + (y - 80) * (y - 80) <= 35 * 35;
                var inBar = x >= 110 && x < 180 && y >= 140 && y < 170;
                pixels[y * 200 + (flip ? 199 - x : x)] = inDisc ? (byte)20 : inBar ? (byte)120 : (byte)255;
            }
        using var image = Image.NewFromMemory(pixels, 200, 200, 1, Enums.BandFormat.Uchar);
        return image.PngsaveBuffer();
    }
}
