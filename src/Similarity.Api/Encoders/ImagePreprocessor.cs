using System.Globalization;
using System.Threading.RateLimiting;
using NetVips;
using Similarity.Hosting;

namespace Similarity.Encoders;

public enum ImageFormat { Jpeg, Png, WebP, Gif }

/// <summary>
/// The picture kept for an item: a JPEG whose longest side is at most <see cref="ImagePreprocessor.FullSide"/> (the
/// copy a later re-embedding reads) and a <see cref="ImagePreprocessor.ThumbSide"/> px thumbnail, upright, metadata
/// stripped; <see cref="ETag"/> names the content of both.
/// </summary>
public sealed record NormalisedPicture(byte[] Full, byte[] Thumb, string ETag);

/// <summary>
/// Untrusted image bytes → the model's NCHW float tensor. <see cref="Check"/> refuses what is too big or not an
/// image before any pixel is decoded — by file size, by pixel count and by the memory the decode would take;
/// <see cref="Decode"/> writes straight into a slot of the batch buffer, at most
/// <see cref="InputLimits.MaxConcurrentDecodes"/> at a time across everything that shares this preprocessor.
/// libvips (NetVips) rather than SkiaSharp: see docs/benchmarks.md for the decode+resize comparison.
/// </summary>
public sealed class ImagePreprocessor : IDisposable
{
    readonly ImagePreprocessing _pre;
    readonly InputLimits _limits;
    readonly float[] _scale = new float[3];
    readonly float[] _bias = new float[3];
    readonly ConcurrencyLimiter _decodeSlots;

    static ImagePreprocessor()
    {
        // A batch decodes its images in parallel, one per thread: libvips' own threads per operation would only
        // contend with that, and its operation cache would hold memory for images that never come back.
        NetVips.NetVips.Concurrency = 1;
        Cache.Max = 0;
    }

    public ImagePreprocessor(ImagePreprocessing preprocessing, InputLimits limits)
    {
        _pre = preprocessing;
        _limits = limits;
        for (var c = 0; c < 3; c++)
        {
            // (v/255 - mean) / std  ==  v·scale + bias
            _scale[c] = 1f / (255f * preprocessing.Std[c]);
            _bias[c] = -preprocessing.Mean[c] / preprocessing.Std[c];
        }
        _decodeSlots = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = limits.MaxConcurrentDecodes,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>The process-wide decode budget: one permit per decode running.</summary>
    internal RateLimiter DecodeSlots => _decodeSlots;

    public int MaxConcurrentDecodes => _limits.MaxConcurrentDecodes;

    /// <summary>Floats one image takes in the batch tensor: 3 × crop × crop.</summary>
    public int TensorLength => 3 * _pre.Crop * _pre.Crop;

    public int Crop => _pre.Crop;

    /// <summary>The format from the content's magic bytes; the file name and declared type are not trusted.</summary>
    public static ImageFormat? Sniff(ReadOnlySpan<byte> bytes) => bytes switch
    {
        [0xFF, 0xD8, 0xFF, ..] => ImageFormat.Jpeg,
        [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => ImageFormat.Png,
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => ImageFormat.WebP,
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'7' or (byte)'9', (byte)'a', ..] => ImageFormat.Gif,
        _ => null,
    };

    /// <summary>What the header promises and how the image will be loaded.</summary>
    /// <param name="Format">The format sniffed from the content.</param>
    /// <param name="Shrink">The loader's own shrink (JPEG DCT scaling, WebP scaled decoding): 1, 2, 4 or 8.</param>
    /// <param name="DecodedBytes">Width × height × bands × bytes per band at the loaded scale.</param>
    readonly record struct LoadPlan(ImageFormat Format, int Shrink, long DecodedBytes)
    {
        public string LoaderOptions => Shrink == 1 ? ""
            : Format == ImageFormat.Jpeg ? $"shrink={Shrink}"
            : string.Create(CultureInfo.InvariantCulture, $"scale={1.0 / Shrink}");
    }

    /// <summary>Refuses empty, oversized, unknown, too-many-pixel or too-much-memory images, reading the header only.</summary>
    public ImageFormat Check(byte[] bytes, string field) => Plan(bytes, field).Format;

    LoadPlan Plan(byte[] bytes, string field)
    {
        if (bytes.Length == 0)
            throw new InputRejectedException(field, "The image is empty.");
        if (bytes.Length > _limits.MaxImageBytes)
            throw new InputRejectedException(field, $"The image is {bytes.Length} bytes; the limit (Similarity:Limits:MaxImageBytes) is {_limits.MaxImageBytes}.", InputRejection.OverLimit);
        var format = Sniff(bytes)
            ?? throw new InputRejectedException(field, "Not a supported image: the content is not JPEG, PNG, WebP or GIF.", InputRejection.UnsupportedType);
        int width, height, bands;
        Enums.BandFormat bandFormat;
        try
        {
            // Lazy: libvips parses the header and allocates nothing for the pixels here.
            using var header = Image.NewFromBuffer(bytes, access: Enums.Access.Sequential);
            (width, height, bands, bandFormat) = (header.Width, header.Height, header.Bands, header.Format);
        }
        catch (VipsException ex)
        {
            throw new InputRejectedException(field, $"The {format} image could not be read: {FirstLine(ex.Message)}");
        }
        var pixels = (long)width * height;
        if (pixels > _limits.MaxImagePixels)
            throw new InputRejectedException(field, $"The image declares {pixels} pixels; the limit (Similarity:Limits:MaxImagePixels) is {_limits.MaxImagePixels}.", InputRejection.OverLimit);

        var shrink = format is ImageFormat.Jpeg or ImageFormat.WebP ? LoadShrink(Math.Min(width, height), _pre.Resize) : 1;
        var decoded = (long)Math.Ceiling((double)width / shrink) * (long)Math.Ceiling((double)height / shrink) * bands * BytesPerBand(bandFormat);
        if (decoded > _limits.MaxDecodedBytes)
            throw new InputRejectedException(field,
                $"The image would take {decoded} bytes to decode ({width} × {height} pixels, {bands} bands of {8 * BytesPerBand(bandFormat)} bits); " +
                $"the limit (Similarity:Limits:MaxDecodedBytes) is {_limits.MaxDecodedBytes}.", InputRejection.OverLimit);
        return new LoadPlan(format, shrink, decoded);
    }

    static int BytesPerBand(Enums.BandFormat format) => format switch
    {
        Enums.BandFormat.Uchar or Enums.BandFormat.Char => 1,
        Enums.BandFormat.Ushort or Enums.BandFormat.Short => 2,
        Enums.BandFormat.Uint or Enums.BandFormat.Int or Enums.BandFormat.Float => 4,
        Enums.BandFormat.Double or Enums.BandFormat.Complex => 8,
        _ => 16, // double complex
    };

    /// <summary>
    /// Decodes (first frame of a GIF), applies EXIF orientation, resizes the shorter side to <c>resize</c>
    /// (bilinear), centre-crops <c>crop</c>², converts to 8-bit sRGB with alpha composited on white, and writes normalised
    /// planes (R, G, B) into <paramref name="destination"/>. Refuses what <see cref="Check"/> refuses, and waits
    /// for a decode slot while <see cref="InputLimits.MaxConcurrentDecodes"/> other decodes run.
    /// </summary>
    public unsafe void Decode(byte[] bytes, Span<float> destination, string field)
    {
        if (destination.Length != TensorLength)
            throw new ArgumentException($"Destination must hold {TensorLength} floats.", nameof(destination));
        using var slot = WaitForDecodeSlot();
        var plan = Plan(bytes, field);
        try
        {
            // The loader is called directly, not through thumbnail_buffer: thumbnail would resize with its own
            // kernel (the model expects bilinear, as torchvision's eval transform) and, without fail_on, loads a
            // truncated JPEG. Its shrink-on-load is what the plan passes: JPEG DCT scaling and WebP scaled
            // decoding; libvips has none for PNG or GIF, which MaxDecodedBytes bounds instead (thumbnail_buffer
            // would not shrink them either: measured in docs/reliability.md).
            using var loaded = Image.NewFromBuffer(bytes, plan.LoaderOptions, Enums.Access.Sequential, Enums.FailOn.Error);
            using var upright = loaded.Autorot();
            // Shorter side to `resize` with a bilinear kernel (torchvision's eval transform; also the cheapest
            // here), then the centre crop straight from the resized image.
            var scale = (double)_pre.Resize / Math.Min(upright.Width, upright.Height);
            using var resized = scale == 1.0 ? upright.Copy() : upright.Resize(scale, kernel: Enums.Kernel.Linear);
            using var area = resized.ExtractArea((resized.Width - _pre.Crop) / 2, (resized.Height - _pre.Crop) / 2, _pre.Crop, _pre.Crop);
            using var cropped = ToSrgb8(area);
            var memory = cropped.WriteToMemory(out var size);
            try
            {
                var pixels = new ReadOnlySpan<byte>((void*)memory, checked((int)size));
                WritePlanes(pixels, destination);
            }
            finally
            {
                NetVips.NetVips.Free(memory);
            }
        }
        catch (VipsException ex)
        {
            throw new InputRejectedException(field, $"The image could not be decoded: {FirstLine(ex.Message)}");
        }
    }

    /// <summary>Longest side of the stored copy: enough for a 224–384 px encoder's resize and crop.</summary>
    public const int FullSide = 640;

    public const int ThumbSide = 256;

    const int JpegQuality = 85;

    /// <summary>
    /// The stored copies of an image (<see cref="NormalisedPicture"/>): EXIF orientation applied, alpha flattened on
    /// white, sRGB, never enlarged. Refuses what <see cref="Check"/> refuses, within the same decode slots, which it
    /// waits for without holding a thread (a request's path).
    /// </summary>
    public async Task<NormalisedPicture> NormaliseAsync(byte[] bytes, string field, CancellationToken ct)
    {
        using var slot = await _decodeSlots.AcquireAsync(1, ct);
        if (!slot.IsAcquired)
            throw new InvalidOperationException("No decode slot was granted.");
        return NormaliseInSlot(bytes, field);
    }

    /// <summary>
    /// <see cref="NormaliseAsync"/> for code that decodes in parallel on its own threads (an import's batch): it
    /// waits for the slot on the calling thread.
    /// </summary>
    public NormalisedPicture Normalise(byte[] bytes, string field)
    {
        using var slot = WaitForDecodeSlot();
        return NormaliseInSlot(bytes, field);
    }

    NormalisedPicture NormaliseInSlot(byte[] bytes, string field)
    {
        Plan(bytes, field);
        try
        {
            // thumbnail_buffer shrinks on load (JPEG, WebP) and streams the rest, so memory stays near the output's.
            using var full = Image.ThumbnailBuffer(bytes, FullSide, height: FullSide, size: Enums.Size.Down, failOn: Enums.FailOn.Error);
            using var fullRgb = ToSrgb8(full);
            // Decoded once into memory: the load above streams once, and both copies are made from these pixels
            // (the thumbnail no longer decodes the saved JPEG again).
            using var pixels = fullRgb.CopyMemory();
            var fullJpeg = pixels.JpegsaveBuffer(q: JpegQuality, optimizeCoding: true, keep: Enums.ForeignKeep.None);
            using var thumb = pixels.ThumbnailImage(ThumbSide, height: ThumbSide, size: Enums.Size.Down);
            var thumbJpeg = thumb.JpegsaveBuffer(q: JpegQuality, optimizeCoding: true, keep: Enums.ForeignKeep.None);
            return new NormalisedPicture(fullJpeg, thumbJpeg, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(fullJpeg))[..32]);
        }
        catch (VipsException ex)
        {
            throw new InputRejectedException(field, $"The image could not be decoded: {FirstLine(ex.Message)}");
        }
    }

    RateLimitLease WaitForDecodeSlot()
    {
        var lease = _decodeSlots.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            // Decoding is synchronous (a batch decodes in Parallel.For), so the wait is too.
            lease = _decodeSlots.AcquireAsync().AsTask().GetAwaiter().GetResult();
        }
        return lease.IsAcquired ? lease : throw new InvalidOperationException("No decode slot was granted.");
    }

    /// <summary>The largest shrink-on-load (1, 2, 4, 8) that keeps the shorter side at least <paramref name="target"/>.</summary>
    internal static int LoadShrink(int shorterSide, int target)
    {
        var shrink = 8;
        while (shrink > 1 && shorterSide / shrink < target)
            shrink /= 2;
        return shrink;
    }

    static Image ToSrgb8(Image image)
    {
        var current = image.Interpretation is Enums.Interpretation.Srgb or Enums.Interpretation.Rgb
            ? image.Copy()
            : image.Colourspace(Enums.Interpretation.Srgb);
        if (current.HasAlpha())
            Replace(ref current, current.Flatten([255, 255, 255]));
        if (current.Bands > 3)
            Replace(ref current, current.ExtractBand(0, 3));
        if (current.Format != Enums.BandFormat.Uchar)
            Replace(ref current, current.Cast(Enums.BandFormat.Uchar));
        return current;
    }

    static void Replace(ref Image image, Image next)
    {
        image.Dispose();
        image = next;
    }

    /// <summary>Interleaved RGB bytes → normalised NCHW planes.</summary>
    internal void WritePlanes(ReadOnlySpan<byte> rgb, Span<float> destination)
    {
        var plane = _pre.Crop * _pre.Crop;
        if (rgb.Length != plane * 3)
            throw new InvalidOperationException($"Expected {plane * 3} RGB bytes, got {rgb.Length}.");
        var r = destination[..plane];
        var g = destination.Slice(plane, plane);
        var b = destination.Slice(2 * plane, plane);
        for (var i = 0; i < plane; i++)
        {
            r[i] = rgb[3 * i] * _scale[0] + _bias[0];
            g[i] = rgb[3 * i + 1] * _scale[1] + _bias[1];
            b[i] = rgb[3 * i + 2] * _scale[2] + _bias[2];
        }
    }

    static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    public void Dispose() => _decodeSlots.Dispose();
}
