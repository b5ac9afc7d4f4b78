using NetVips;
using Similarity.Encoders;
using Similarity.Hosting;

namespace Similarity.UnitTests.Encoders;

public sealed class ImagePreprocessorTests
{
    static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    static readonly float[] Std = [0.229f, 0.224f, 0.225f];

    static ImagePreprocessor Create(int resize, int crop, InputLimits? limits = null) =>
        new(new ImagePreprocessing(resize, crop, Mean, Std), limits ?? new InputLimits { MaxImagePixels = 1_000_000 });

    static byte[] Encode(byte[] pixels, int width, int height, int bands, string suffix)
    {
        using var image = Image.NewFromMemory(pixels, width, height, bands, Enums.BandFormat.Uchar);
        return image.WriteToBuffer(suffix);
    }

    static float Expected(byte value, int channel) => (value / 255f - Mean[channel]) / Std[channel];

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }, ImageFormat.Jpeg)]
    [InlineData(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, ImageFormat.Png)]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 1, 2, 3, 4, (byte)'W', (byte)'E', (byte)'B', (byte)'P' }, ImageFormat.WebP)]
    [InlineData(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' }, ImageFormat.Gif)]
    public void Sniffs_the_format_from_the_content(byte[] header, ImageFormat expected) =>
        Assert.Equal(expected, ImagePreprocessor.Sniff(header));

    [Fact]
    public void Text_is_not_an_image() =>
        Assert.Null(ImagePreprocessor.Sniff("hello, I am a .jpg"u8));

    [Fact]
    public void A_4x4_png_becomes_normalised_rgb_planes_in_nchw_order()
    {
        var pixels = new byte[4 * 4 * 3];
        for (var i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)(i * 5);
        var tensor = new float[3 * 16];

        Create(4, 4).Decode(Encode(pixels, 4, 4, 3, ".png"), tensor, "image");

        for (var p = 0; p < 16; p++)
            for (var c = 0; c < 3; c++)
                Assert.Equal(Expected(pixels[3 * p + c], c), tensor[c * 16 + p], 4);
    }

    [Fact]
    public void Centre_crop_takes_the_middle()
    {
        // 4x4 image, crop 2: pixels (1,1), (2,1), (1,2), (2,2).
        var pixels = new byte[4 * 4 * 3];
        for (var p = 0; p < 16; p++)
            pixels[3 * p] = (byte)(p * 10);
        var tensor = new float[3 * 4];

        Create(4, 2).Decode(Encode(pixels, 4, 4, 3, ".png"), tensor, "image");

        byte[] middle = [50, 60, 90, 100];
        for (var p = 0; p < 4; p++)
            Assert.Equal(Expected(middle[p], 0), tensor[p], 4);
    }

    [Fact]
    public void Transparent_pixels_are_composited_on_white()
    {
        byte[] rgba = [255, 0, 0, 0, /* fully transparent red */ 0, 0, 255, 255 /* opaque blue */, 0, 0, 255, 255, 0, 0, 255, 255];
        var tensor = new float[3 * 4];

        Create(2, 2).Decode(Encode(rgba, 2, 2, 4, ".png"), tensor, "image");

        Assert.Equal(Expected(255, 0), tensor[0], 4); // R of the transparent pixel: white
        Assert.Equal(Expected(255, 1), tensor[4], 4); // G
        Assert.Equal(Expected(0, 0), tensor[1], 4);   // R of an opaque blue pixel
    }

    [Fact]
    public void Grayscale_becomes_three_equal_channels()
    {
        byte[] gray = [0, 85, 170, 255];
        var tensor = new float[3 * 4];

        Create(2, 2).Decode(Encode(gray, 2, 2, 1, ".png"), tensor, "image");

        for (var p = 0; p < 4; p++)
            for (var c = 0; c < 3; c++)
                Assert.Equal(Expected(gray[p], c), tensor[c * 4 + p], 4);
    }

    [Fact]
    public void Exif_orientation_is_applied()
    {
        // 4x2 stored: left half red, right half blue. Orientation 6 (rotate 90° clockwise) displays it 2x4
        // with red on top; centre-cropping 2x2 then gives a red top row and a blue bottom row.
        var pixels = new byte[4 * 2 * 3];
        for (var y = 0; y < 2; y++)
            for (var x = 0; x < 4; x++)
                pixels[(y * 4 + x) * 3 + (x < 2 ? 0 : 2)] = 255;
        using var stored = Image.NewFromMemory(pixels, 4, 2, 3, Enums.BandFormat.Uchar);
        using var tagged = stored.Mutate(m => m.Set(GValue.GIntType, "orientation", 6));
        var tensor = new float[3 * 4];

        // JPEG at full quality without chroma subsampling, so the two colours stay apart.
        Create(2, 2).Decode(tagged.WriteToBuffer(".jpg[Q=100,subsample_mode=off]"), tensor, "image");

        float Red(int p) => tensor[p];
        float Blue(int p) => tensor[8 + p];
        Assert.True(Red(0) > Blue(0) && Red(1) > Blue(1), "top row should be red");
        Assert.True(Blue(2) > Red(2) && Blue(3) > Red(3), "bottom row should be blue");
    }

    [Fact]
    public void Too_many_declared_pixels_is_refused_from_the_header()
    {
        var image = Encode(new byte[1001 * 1001 * 3], 1001, 1001, 3, ".png");
        var error = Assert.Throws<InputRejectedException>(() => Create(4, 4).Check(image, "image"));
        Assert.Equal(InputRejection.OverLimit, error.Reason);
        Assert.Contains("MaxImagePixels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_16_bit_rgba_png_is_refused_by_the_memory_its_decode_would_take_not_by_its_pixels()
    {
        // 1 000 × 1 000 is under the pixel limit, but at 8 bytes a pixel it would take 8 MB to decode.
        var limits = new InputLimits { MaxImagePixels = 1_000_000, MaxDecodedBytes = 4 * 1024 * 1024 };
        using var black = Image.Black(1000, 1000, bands: 4);
        using var rgba16 = black.Cast(Enums.BandFormat.Ushort).Copy(interpretation: Enums.Interpretation.Rgb16);
        var png = rgba16.PngsaveBuffer(interlace: true);

        var error = Assert.Throws<InputRejectedException>(() => Create(256, 224, limits).Check(png, "image"));
        Assert.Equal(InputRejection.OverLimit, error.Reason);
        Assert.Contains("8000000 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxDecodedBytes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".jpg", true)]   // DCT scaling: decoded at 1/8, 375 × 250 × 3 bytes
    [InlineData(".webp", true)]  // scaled decoding, the same
    [InlineData(".png", false)]  // no shrink-on-load in libvips: 3 000 × 2 000 × 3 = 18 MB
    [InlineData(".gif", false)]  // nor for GIF (decoded as RGBA)
    public void Formats_that_shrink_on_load_are_counted_at_the_size_they_decode_to(string suffix, bool accepted)
    {
        var limits = new InputLimits { MaxImagePixels = 10_000_000, MaxDecodedBytes = 4 * 1024 * 1024 };
        using var black = Image.Black(3000, 2000, bands: 3);
        using var orange = black.Linear(new[] { 1.0, 1, 1 }, new[] { 200.0, 60, 30 });
        using var flat = orange.Cast(Enums.BandFormat.Uchar);
        var encoded = flat.WriteToBuffer(suffix);
        var preprocessor = Create(256, 224, limits);
        var tensor = new float[preprocessor.TensorLength];

        if (accepted)
        {
            preprocessor.Decode(encoded, tensor, "image");
            Assert.Equal(Expected(200, 0), tensor[0], 1);
        }
        else
        {
            Assert.Equal(InputRejection.OverLimit, Assert.Throws<InputRejectedException>(() => preprocessor.Decode(encoded, tensor, "image")).Reason);
        }
    }

    [Fact]
    public async Task A_decode_waits_while_every_decode_slot_is_taken()
    {
        using var preprocessor = Create(4, 4, new InputLimits { MaxImagePixels = 1_000_000, MaxConcurrentDecodes = 1 });
        var png = Encode(new byte[4 * 4 * 3], 4, 4, 3, ".png");
        var tensor = new float[preprocessor.TensorLength];

        var held = preprocessor.DecodeSlots.AttemptAcquire();
        Assert.True(held.IsAcquired);
        var decode = Task.Run(() => preprocessor.Decode(png, tensor, "image"));
        Assert.True(SpinWait.SpinUntil(() => preprocessor.DecodeSlots.GetStatistics()!.CurrentQueuedCount == 1, TimeSpan.FromMinutes(1)),
            "the decode should queue for the slot");
        Assert.False(decode.IsCompleted);

        held.Dispose();
        await decode.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(Expected(0, 0), tensor[0], 4);
    }

    [Fact]
    public async Task Normalising_for_a_request_waits_for_its_slot_without_holding_a_thread()
    {
        using var preprocessor = Create(4, 4, new InputLimits { MaxImagePixels = 1_000_000, MaxConcurrentDecodes = 1 });
        var png = Encode(new byte[8 * 8 * 3], 8, 8, 3, ".png");

        var held = preprocessor.DecodeSlots.AttemptAcquire();
        Assert.True(held.IsAcquired);
        // Called on this thread, not Task.Run: a blocking wait would never return here.
        var normalise = preprocessor.NormaliseAsync(png, "image", CancellationToken.None);
        Assert.False(normalise.IsCompleted);
        Assert.Equal(1, preprocessor.DecodeSlots.GetStatistics()!.CurrentQueuedCount);

        held.Dispose();
        var picture = await normalise.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(ImageFormat.Jpeg, ImagePreprocessor.Sniff(picture.Full));
    }

    [Fact]
    public async Task A_cancelled_request_leaves_the_decode_queue()
    {
        using var preprocessor = Create(4, 4, new InputLimits { MaxImagePixels = 1_000_000, MaxConcurrentDecodes = 1 });
        var png = Encode(new byte[8 * 8 * 3], 8, 8, 3, ".png");
        using var held = preprocessor.DecodeSlots.AttemptAcquire();
        using var cancel = new CancellationTokenSource();

        var normalise = preprocessor.NormaliseAsync(png, "image", cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => normalise);
        Assert.Equal(0, preprocessor.DecodeSlots.GetStatistics()!.CurrentQueuedCount);
    }

    [Theory]
    [InlineData(2000, 256, 4)]
    [InlineData(2047, 256, 4)]
    [InlineData(2048, 256, 8)]
    [InlineData(300, 256, 1)]
    [InlineData(100, 256, 1)]
    public void Shrink_on_load_never_goes_below_the_resize_target(int shorterSide, int target, int expected) =>
        Assert.Equal(expected, ImagePreprocessor.LoadShrink(shorterSide, target));

    [Fact]
    public void Palette_and_cmyk_images_decode_to_the_same_rgb_as_the_original()
    {
        var pixels = new byte[8 * 8 * 3];
        for (var i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)(i % 3 == 0 ? 200 : i % 3 == 1 ? 60 : 30); // one flat orange
        using var rgb = Image.NewFromMemory(pixels, 8, 8, 3, Enums.BandFormat.Uchar);
        var reference = new float[3 * 16];
        Create(4, 4).Decode(rgb.WriteToBuffer(".png"), reference, "image");

        var palette = new float[3 * 16];
        Create(4, 4).Decode(rgb.WriteToBuffer(".png[palette]"), palette, "image");
        using var cmyk = rgb.Colourspace(Enums.Interpretation.Cmyk);
        var fromCmyk = new float[3 * 16];
        Create(4, 4).Decode(cmyk.WriteToBuffer(".jpg[Q=100]"), fromCmyk, "image");

        for (var i = 0; i < reference.Length; i++)
        {
            Assert.Equal(reference[i], palette[i], 2);
            // CMYK round-trips through a colour profile (gamut mapping) and JPEG: close, not exact. 0.3 is about
            // 17 of 255 levels; CMYK bands taken as RGB would be off by more than 1 in every channel.
            Assert.True(MathF.Abs(reference[i] - fromCmyk[i]) < 0.3f, $"{i}: {reference[i]} vs {fromCmyk[i]}");
        }
    }
}
