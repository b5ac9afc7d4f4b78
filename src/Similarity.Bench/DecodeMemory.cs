using NetVips;
using Similarity.Encoders;

namespace Similarity.Bench;

/// <summary>
/// What one image decode costs in memory (docs/reliability.md): <c>--write DIR</c> writes large PNGs and a GIF
/// (6000 × 6000, 8-bit RGB, non-interlaced and interlaced); <c>--image FILE</c> decodes one of them once, as /embed
/// does (<see cref="ImagePreprocessor.Decode"/>, or with <c>--way thumbnail</c> through thumbnail_buffer), in a
/// fresh process, and prints the process's peak resident memory before and after. One image per process: the
/// peak (VmHWM) never goes down.
/// </summary>
public static class DecodeMemory
{
    const int Side = 6000;

    public static int Run(BenchArgs args)
    {
        if (args.Get("write", "") is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
            // A smooth gradient compresses to a few MB, under MaxImageBytes, and decodes to the full 108 MB.
            using var x = Image.Xyz(Side, Side);
            using var gradient = (x[0] + x[1]) / (2.0 * Side / 255.0);
            using var bands = gradient.Bandjoin(gradient, gradient);
            using var bytes8 = bands.Cast(Enums.BandFormat.Uchar);
            using var rgb = bytes8.Copy(interpretation: Enums.Interpretation.Srgb);
            rgb.Pngsave(Path.Combine(directory, "large.png"), compression: 1);
            rgb.Pngsave(Path.Combine(directory, "large-interlaced.png"), compression: 1, interlace: true);
            rgb.Gifsave(Path.Combine(directory, "large.gif"));
            return 0;
        }
        var image = File.ReadAllBytes(args.Get("image"));
        var limits = new InputLimits { MaxImageBytes = 256L * 1024 * 1024, MaxImagePixels = 100_000_000, MaxDecodedBytes = 4L * 1024 * 1024 * 1024, MaxConcurrentDecodes = 1 };
        using var preprocessor = new ImagePreprocessor(new ImagePreprocessing(256, 224, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]), limits);
        var before = PeakResidentMegabytes();
        if (args.Get("way", "decode") == "thumbnail")
        {
            using var thumb = Image.ThumbnailBuffer(image, 256, height: 256, size: Enums.Size.Down, crop: Enums.Interesting.Centre, failOn: Enums.FailOn.Error);
            NetVips.NetVips.Free(thumb.WriteToMemory(out _));
        }
        else
            preprocessor.Decode(image, new float[preprocessor.TensorLength], "image");
        Console.WriteLine($"{Path.GetFileName(args.Get("image"))}: {image.Length / 1e6:F1} MB file; peak RSS {before} MB before, {PeakResidentMegabytes()} MB after one decode ({args.Get("way", "decode")})");
        return 0;
    }

    static long PeakResidentMegabytes() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
            System.Globalization.CultureInfo.InvariantCulture) / 1024;
}
