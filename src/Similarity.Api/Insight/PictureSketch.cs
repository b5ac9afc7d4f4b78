using System.Numerics.Tensors;
using NetVips;

namespace Similarity.Insight;

/// <summary>
/// A picture's sketch: a 48 × 48 grey copy (flattened on white, its aspect ignored), and <see cref="Match"/>, how well
/// two sketches show the same pixels — the best correlation of one with a window of the other, over window sizes from
/// the whole sketch down to 80% of its side and offsets in steps of 2.5%, both ways round. A resize or re-encode matches
/// at about 1, a crop of 80% or more matches its original's window, while a sibling icon of one set (another shape,
/// the arrow pointing the other way) stays lower, however alike the image vectors find them. Pure: no database.
/// </summary>
public static class PictureSketch
{
    /// <summary>The sketch's side in pixels.</summary>
    public const int Side = 48;

    /// <summary>The side both are resampled to before they are correlated.</summary>
    const int Compared = 32;

    static readonly double[] Scales = [1.0, 0.975, 0.95, 0.925, 0.9, 0.875, 0.85, 0.825, 0.8];
    const double Step = 0.025;

    /// <summary>The sketch of a picture's bytes: <see cref="Side"/> × <see cref="Side"/> grey bytes, row by row.</summary>
    public static byte[] Of(byte[] picture) => Grey(picture, Side, Side);

    /// <summary>The picture as width × height grey bytes, row by row, its aspect ignored, transparency flattened on white.</summary>
    public static byte[] Grey(byte[] picture, int width, int height)
    {
        using var small = Image.ThumbnailBuffer(picture, width, height: height, size: Enums.Size.Force);
        using var flat = small.HasAlpha() ? small.Flatten(background: [255, 255, 255]) : small.Copy();
        using var grey = flat.Colourspace(Enums.Interpretation.Bw);
        using var band = grey.Bands > 1 ? grey.ExtractBand(0) : grey.Copy();
        using var bytes = band.Cast(Enums.BandFormat.Uchar);
        return bytes.WriteToMemory<byte>();
    }

    /// <summary>The best correlation (−1 to 1) of either sketch, whole, with a window of the other.</summary>
    public static double Match(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => Search(a, b, double.PositiveInfinity);

    /// <summary>Whether <see cref="Match"/> reaches <paramref name="least"/>; stops at the first window that does.</summary>
    public static bool Matches(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, double least) => Search(a, b, least) >= least;

    /// <summary>
    /// The best correlation over the <see cref="Windows"/> both ways round, or the first one at or over
    /// <paramref name="enough"/>. The grid is fine (a crop between its points is met within half a step, 0.6 sketch
    /// pixels) because a line drawing's correlation peak is narrow: a coarser grid refined around its best point
    /// missed crops whose coarse best lay beside the peak.
    /// </summary>
    static double Search(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, double enough)
    {
        if (a.Length != Side * Side || b.Length != Side * Side)
            throw new ArgumentException($"A sketch has {Side * Side} bytes.");
        float[][] sketches = [ToFloats(a), ToFloats(b)];
        var across = new float[Side * Compared];
        var window = new float[Compared * Compared];
        float[][] whole = [new float[Compared * Compared], new float[Compared * Compared]];
        var norms = new double[2];
        for (var side = 0; side < 2; side++)
        {
            Resample(sketches[side], Windows[0], across, whole[side]);
            norms[side] = Centre(whole[side]);
        }
        // Window 0 is the whole sketch: a resize or re-encode is decided by the first comparison.
        var best = Correlation(whole[0], whole[1], norms[1]);
        for (var side = 0; side < 2 && best < enough; side++)
        {
            Axis? done = null;
            for (var w = 1; w < Windows.Length && best < enough; w++)
            {
                // Windows come grouped by their columns: the first pass is made once per group.
                if (!ReferenceEquals(done, Windows[w].Columns))
                    Across(sketches[side], done = Windows[w].Columns, across);
                Down(across, Windows[w].Rows, window);
                best = Math.Max(best, Correlation(window, whole[1 - side], norms[1 - side]));
            }
        }
        return best;
    }

    /// <summary>A window of the grid: the weights along each axis (the same table serves rows and columns: windows are square).</summary>
    sealed record Window(Axis Columns, Axis Rows);

    /// <summary>For each of the <see cref="Compared"/> output pixels along one axis: its first source pixel and its weights from there.</summary>
    sealed record Axis(int[] First, float[][] Weights);

    /// <summary>The grid's windows, the whole sketch first.</summary>
    static readonly Window[] Windows = [.. Scales.SelectMany(scale =>
    {
        var axes = Enumerable.Range(0, (int)Math.Round((1 - scale) / Step) + 1).Select(i => AxisOf(i * Step * Side, scale * Side)).ToArray();
        return axes.SelectMany(columns => axes.Select(rows => new Window(columns, rows)));
    })];

    /// <summary>Subtracts the mean in place; returns the sum of squares left.</summary>
    static double Centre(float[] values)
    {
        TensorPrimitives.Subtract(values, TensorPrimitives.Sum(values) / values.Length, values);
        return TensorPrimitives.SumOfSquares(values);
    }

    /// <summary>
    /// Pearson correlation of <paramref name="values"/> (centred here, in place) with a centred array whose sum of
    /// squares is <paramref name="centredSquares"/>; 0 when either is flat.
    /// </summary>
    static double Correlation(float[] values, float[] centred, double centredSquares)
    {
        var spread = Centre(values);
        return spread > 1e-3 && centredSquares > 1e-3 ? TensorPrimitives.Dot(values, centred) / Math.Sqrt(spread * centredSquares) : 0;
    }

    /// <summary>
    /// A square window of the sketch resampled into <paramref name="output"/> (<see cref="Compared"/> squared) with a
    /// triangle filter as wide as the shrink, one axis after the other (<paramref name="across"/>: the first pass).
    /// </summary>
    static void Resample(float[] sketch, Window window, float[] across, float[] output)
    {
        Across(sketch, window.Columns, across);
        Down(across, window.Rows, output);
    }

    /// <summary>The first pass: every sketch row resampled along <paramref name="columns"/>.</summary>
    static void Across(float[] sketch, Axis columns, float[] across)
    {
        for (var y = 0; y < Side; y++)
            for (var i = 0; i < Compared; i++)
            {
                var (first, weights) = (columns.First[i], columns.Weights[i]);
                var sum = 0f;
                for (var k = 0; k < weights.Length; k++)
                    sum += weights[k] * sketch[y * Side + first + k];
                across[y * Compared + i] = sum;
            }
    }

    /// <summary>The second pass: the first pass's columns resampled along <paramref name="rows"/>.</summary>
    static void Down(float[] across, Axis rows, float[] output)
    {
        for (var j = 0; j < Compared; j++)
        {
            var (first, weights) = (rows.First[j], rows.Weights[j]);
            var row = output.AsSpan(j * Compared, Compared);
            row.Clear();
            for (var k = 0; k < weights.Length; k++)
                TensorPrimitives.MultiplyAdd(across.AsSpan((first + k) * Compared, Compared), weights[k], row, row);
        }
    }

    /// <summary>The axis of a window starting at <paramref name="start"/> sketch pixels, <paramref name="size"/> long.</summary>
    static Axis AxisOf(double start, double size)
    {
        var scale = size / Compared;
        var support = Math.Max(scale, 1.0);
        var (firsts, all) = (new int[Compared], new float[Compared][]);
        for (var i = 0; i < Compared; i++)
        {
            var centre = start + (i + 0.5) * scale;
            var (from, to) = (Math.Max(0, (int)Math.Floor(centre - support)), Math.Min(Side - 1, (int)Math.Ceiling(centre + support)));
            var weights = new float[to - from + 1];
            for (var x = from; x <= to; x++)
                weights[x - from] = (float)Math.Max(0, 1 - Math.Abs((x + 0.5 - centre) / support));
            TensorPrimitives.Divide(weights, TensorPrimitives.Sum(weights), weights);
            (firsts[i], all[i]) = (from, weights);
        }
        return new Axis(firsts, all);
    }

    static float[] ToFloats(ReadOnlySpan<byte> bytes)
    {
        var result = new float[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
            result[i] = bytes[i];
        return result;
    }
}
