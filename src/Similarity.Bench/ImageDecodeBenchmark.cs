using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using SkiaSharp;
using Similarity.Encoders;

namespace Similarity.Bench;

/// <summary>
/// Decode + resize (shorter side 256) + centre crop 224 + normalise, NetVips against SkiaSharp, on the same
/// catalog JPEGs. The service uses whichever is faster at equal output; the figures are in docs/benchmarks.md.
/// </summary>
[MemoryDiagnoser]
public class ImageDecodeBenchmark
{
    static readonly ImagePreprocessing Preprocessing = new(256, 224, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    // BenchmarkDotNet runs each benchmark in a child process: the folder travels by environment variable.
    const string ImagesVariable = "SIMILARITY_BENCH_IMAGES";

    List<byte[]> _images = [];
    readonly float[] _tensor = new float[3 * 224 * 224];
    readonly ImagePreprocessor _netVips = new(Preprocessing, new InputLimits());
    int _next;

    [Params(600, 1600)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup() => _images = SampleImages.Load(Environment.GetEnvironmentVariable(ImagesVariable)!, 16, Size);

    [Benchmark(Baseline = true)]
    public void NetVips() => _netVips.Decode(_images[_next++ % _images.Count], _tensor, "image");

    [Benchmark]
    public void SkiaSharp()
    {
        using var decoded = SKBitmap.Decode(_images[_next++ % _images.Count]);
        var scale = 256f / Math.Min(decoded.Width, decoded.Height);
        var info = new SKImageInfo((int)MathF.Round(decoded.Width * scale), (int)MathF.Round(decoded.Height * scale), SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var resized = decoded.Resize(info, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
        using var cropped = new SKBitmap(224, 224, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        resized.ExtractSubset(cropped, SKRectI.Create((resized.Width - 224) / 2, (resized.Height - 224) / 2, 224, 224));
        var pixels = cropped.GetPixelSpan();
        const int plane = 224 * 224;
        for (var i = 0; i < plane; i++)
        {
            _tensor[i] = (pixels[4 * i] / 255f - 0.485f) / 0.229f;
            _tensor[plane + i] = (pixels[4 * i + 1] / 255f - 0.456f) / 0.224f;
            _tensor[2 * plane + i] = (pixels[4 * i + 2] / 255f - 0.406f) / 0.225f;
        }
    }

    public static int Run(string[] args)
    {
        Environment.SetEnvironmentVariable(ImagesVariable, BenchArgs.Parse(args).Get("images"));
        var config = ManualConfig.Create(DefaultConfig.Instance).AddJob(Job.ShortRun.WithId("short")).WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkRunner.Run<ImageDecodeBenchmark>(config);
        return 0;
    }
}
