namespace Similarity.Bench;

/// <summary>
/// <c>./similarity.sh bench WHAT [options]</c>: each benchmark starts what it measures, measures its baseline in the same
/// run and prints a markdown table. The helper verbs below the line are the benchmarks' parts, runnable alone.
/// </summary>
public static class BenchMain
{
    public static async Task<int> Main(string[] args)
    {
        try
        {
            return args switch
            {
                ["encoders", "--compare", var fp32, var int8, .. var rest] =>
                    await EncoderCompareBenchmark.RunAsync(fp32, int8, BenchArgs.Parse(["--images", BenchPlace.Clipart, .. rest])),
                ["encoders", .. var rest] => await EncoderBenchmark.RunAsync(BenchArgs.Parse(["--manifest", "models/full/manifest.json", "--images", BenchPlace.Clipart, .. rest])),
                ["images", .. var rest] => ImageDecodeBenchmark.Run(["--images", BenchPlace.Clipart, .. rest]),
                ["similar", .. var rest] => await SimilarRun.RunAsync(rest),
                ["events", .. var rest] => await EventsBenchmark.RunAsync(rest),
                ["search", .. var rest] => await SearchRun.RunAsync(rest),
                ["import", .. var rest] when rest.Contains("--source") => await ImportRun.ByUrlAsync(rest),
                ["import", .. var rest] => await ImportRun.RunAsync(rest),
                ["upload", .. var rest] => await UploadRun.RunAsync(rest),
                ["quality", .. var rest] => await QualityRun.RunAsync(rest),
                ["feedback", .. var rest] => await FeedbackRun.RunAsync(rest),
                ["insight", .. var rest] => await InsightRun.RunAsync(rest),
                ["isolation", .. var rest] => await IsolationRun.RunAsync(rest),
                ["pages", .. var rest] => await PagesRun.RunAsync(rest),
                ["ha", .. var rest] => await HaRun.RunAsync(rest),
                ["models", .. var rest] when rest.Contains("--memory") => await ModelsRun.MemoryAsync(),
                ["models", .. var rest] => await ModelsRun.RunAsync(rest),
                ["openapi", .. var rest] => await OpenApiDocument.WriteAsync(BenchArgs.Parse(rest)),

                ["seed-similar", .. var rest] => await SimilarBenchmark.SeedAsync(BenchArgs.Parse(rest)),
                ["recall", .. var rest] => await SimilarBenchmark.RecallAsync(BenchArgs.Parse(rest)),
                ["freshness", .. var rest] => await SimilarBenchmark.FreshnessAsync(BenchArgs.Parse(rest)),
                ["import-catalog", .. var rest] => ImportBenchmark.WriteCatalog(BenchArgs.Parse(rest)),
                ["bare-encoders", .. var rest] => ImportBenchmark.BareEncoders(BenchArgs.Parse(rest)),
                ["serve-pictures", .. var rest] => await PictureServer.RunAsync(BenchArgs.Parse(rest)),
                ["isolation-inputs", .. var rest] => IsolationInputs.Write(BenchArgs.Parse(rest)),
                ["isolation-flood", .. var rest] => await IsolationFlood.RunAsync(BenchArgs.Parse(rest)),
                ["decode-memory", .. var rest] => DecodeMemory.Run(BenchArgs.Parse(rest)),
                ["calibrate", .. var rest] => Int8Calibration.Run(BenchArgs.Parse(rest)),
                ["golden-int8", .. var rest] => await Int8Golden.RunAsync(BenchArgs.Parse(rest)),
                _ => Usage(),
            };
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }
    }

    static int Usage()
    {
        Console.Error.WriteLine("""
            usage: ./similarity.sh bench encoders|images|similar|search|import|upload|quality|insight|isolation|pages|models|events|feedback|ha [options]
                   encoders  [--seconds S]   (models/full; openclipart's drawings)
                   encoders --compare FP32_DIR INT8_DIR [--seconds S] [--items N]   (both sets' speed and their vectors' cosine)
                   similar   [--items N] [--seconds S] [--warmup S] [--rounds N] [--stream S] [--served-log on|off] [--put N]
                   events    [--seconds S] [--warmup S] [--connections C]   (POST /events, 1 000-event batches)
                   search    [--items N] [--seconds S] [--warmup S] [--rounds N]
                   feedback  [--days N] [--shoppers N] [--seed N] [--items N] [--tune]   (the closed loop against a shopper simulator)
                   import    [--items N] [--flat-rows N] [--seconds S] [--set NAME] | --source url [--items N]
                   upload    [--rows N]
                   isolation [--items N] [--seconds S] [--rounds N] [--warmup S] [--only CONFIGURATION] [--taskset CPUS]
                   pages     [--items N] [--iterations N]
                   models    [--items N] [--readers R] [--seconds S] [--rate R] | --memory
                   insight   [--drawings N] | --scale N   (quality on the openclipart test split; or the routes and clustering timed at N items)
                   ha        [--items N] [--seconds S] [--readers R] | --sizes   (needs ./similarity.sh db ha start: a switchover and a killed primary under load)
            helpers: Similarity.Bench openapi --out FILE   (the OpenAPI document of a freshly started service, tiny models)
                     Similarity.Bench seed-similar --connection CS --manifest PATH [--items N]
                     Similarity.Bench recall   --connection CS --url URL [--items N] [--queries Q] [--source precomputed|live] [--lists N]
                     Similarity.Bench freshness --connection CS [--items N] [--rate R] [--seconds S] [--move M] [--drain S]
                     Similarity.Bench import-catalog --images DIR --out DIR [--items N] [--distinct D]
                     Similarity.Bench bare-encoders --manifest PATH --catalog DIR [--seconds N]
                     Similarity.Bench isolation-inputs --images DIR --out DIR   (the flood's request bodies)
                     Similarity.Bench isolation-flood --url URL --body FILE [--clients N] [--seconds S]   (the flood alone, for taskset)
                     Similarity.Bench decode-memory --write DIR | --image FILE [--way decode|thumbnail]
                     Similarity.Bench calibrate --manifest PATH --model ONNX --files LIST --out JSON   (activation ranges for models/quantize.py)
                     Similarity.Bench golden-int8 --manifest PATH --like GOLDEN_JSON --image PNG --out JSON   (an INT8 set's pinned vectors)
                     Similarity.Bench serve-pictures --zip FILE [--port N]   (a catalog zip's pictures over HTTP on 127.0.0.1)
            """);
        return 2;
    }
}
