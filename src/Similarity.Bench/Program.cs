using Similarity.Bench;

// ./similarity.sh bench WHAT [options]: each benchmark measures its baseline in the same run and prints a markdown table.
return args switch
{
    ["encoders", "--compare", var fp32, var int8, .. var rest] => await EncoderCompareBenchmark.RunAsync(fp32, int8, BenchArgs.Parse(rest)),
    ["encoders", .. var rest] => await EncoderBenchmark.RunAsync(BenchArgs.Parse(rest)),
    ["images", .. var rest] => ImageDecodeBenchmark.Run(rest),
    ["seed-similar", .. var rest] => await SimilarBenchmark.SeedAsync(BenchArgs.Parse(rest)),
    ["recall", .. var rest] => await SimilarBenchmark.RecallAsync(BenchArgs.Parse(rest)),
    ["freshness", .. var rest] => await SimilarBenchmark.FreshnessAsync(BenchArgs.Parse(rest)),
    ["import-catalog", .. var rest] => ImportBenchmark.WriteCatalog(BenchArgs.Parse(rest)),
    ["bare-encoders", .. var rest] => ImportBenchmark.BareEncoders(BenchArgs.Parse(rest)),
    ["serve-pictures", .. var rest] => await PictureServer.RunAsync(BenchArgs.Parse(rest)),
    ["isolation-inputs", .. var rest] => IsolationInputs.Write(BenchArgs.Parse(rest)),
    ["pages", .. var rest] => await PagesBenchmark.RunAsync(BenchArgs.Parse(rest)),
    ["decode-memory", .. var rest] => DecodeMemory.Run(BenchArgs.Parse(rest)),
    ["models", .. var rest] => await ModelsBenchmark.RunAsync(BenchArgs.Parse(rest)),
    ["calibrate", .. var rest] => Int8Calibration.Run(BenchArgs.Parse(rest)),
    ["golden-int8", .. var rest] => await Int8Golden.RunAsync(BenchArgs.Parse(rest)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Similarity.Bench encoders --manifest PATH --images DIR [--seconds N]
               Similarity.Bench encoders --compare FP32_DIR INT8_DIR --images DIR [--seconds N] [--items N]   (speed and FP32/INT8 cosine)
               Similarity.Bench calibrate --manifest PATH --model ONNX --files LIST --out JSON   (activation ranges for models/quantize.py)
               Similarity.Bench golden-int8 --manifest PATH --like GOLDEN_JSON --image PNG --out JSON   (an INT8 set's pinned vectors)
               Similarity.Bench images   --images DIR      (NetVips vs SkiaSharp decode+resize, BenchmarkDotNet)
               Similarity.Bench seed-similar --connection CS --manifest PATH [--items N]
               Similarity.Bench recall   --connection CS --url URL [--items N] [--queries Q] [--source precomputed|live] [--lists N]
               Similarity.Bench freshness --connection CS [--items N] [--rate R] [--seconds S] [--move M] [--drain S]   (upserts by SQL; commit to lists applied)
               Similarity.Bench import-catalog --images DIR --out DIR [--items N] [--distinct D]
               Similarity.Bench bare-encoders --manifest PATH --catalog DIR [--seconds N]
               Similarity.Bench isolation-inputs --images DIR --out DIR   (the flood's request bodies)
               Similarity.Bench pages --url URL [--iterations N] [--screenshot PNG] [--sku SKU]   (item page timing)
               Similarity.Bench decode-memory --write DIR | --image FILE [--way decode|thumbnail]   (peak RSS of one decode)
               Similarity.Bench models --url URL --connection CS --candidate DIR [--pid PID] [--name N] [--readers R] [--seconds S]   (deploy, embed, switch, roll back under load)
               Similarity.Bench serve-pictures --zip FILE [--port N]   (a catalog zip's pictures over HTTP on 127.0.0.1)
        """);
    return 2;
}
