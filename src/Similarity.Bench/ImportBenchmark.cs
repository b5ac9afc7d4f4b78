using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using NetVips;
using Similarity.Encoders;

namespace Similarity.Bench;

/// <summary>The data side of <c>./similarity.sh bench import</c>: a generated catalog, and the encoders' bare throughput.</summary>
public static partial class ImportBenchmark
{
    /// <summary>
    /// N rows over openclipart's labelled drawings: the title from the file name, the category from the folder,
    /// one of <c>--distinct</c> images (600 px JPEG) per row, so every row's image is decoded and encoded.
    /// </summary>
    public static int WriteCatalog(BenchArgs args)
    {
        var items = args.GetInt("items", 5000);
        var distinct = args.GetInt("distinct", 500);
        var output = args.Get("out");
        Directory.CreateDirectory(output);
        var files = Directory.EnumerateFiles(args.Get("images"), "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var chosen = new List<(string Entry, string Title, string Category)>();
        File.Delete(Path.Combine(output, "images.zip"));
        using (var zip = ZipFile.Open(Path.Combine(output, "images.zip"), ZipArchiveMode.Create))
        {
            foreach (var file in files)
            {
                if (chosen.Count == distinct)
                    break;
                byte[] jpeg;
                try
                {
                    using var thumb = Image.Thumbnail(file, 600, height: 600);
                    using var flat = thumb.HasAlpha() ? thumb.Flatten([255, 255, 255]) : thumb.Copy();
                    jpeg = flat.JpegsaveBuffer(q: 90);
                }
                catch (VipsException)
                {
                    continue;
                }
                var entry = $"img/{chosen.Count:D4}.jpg";
                using (var stream = zip.CreateEntry(entry, CompressionLevel.NoCompression).Open())
                    stream.Write(jpeg);
                var relative = Path.GetRelativePath(args.Get("images"), file);
                chosen.Add((entry, TitleOf(Path.GetFileNameWithoutExtension(file)), relative.Split('/')[0]));
            }
        }
        using var csv = new StreamWriter(Path.Combine(output, "catalog.csv"), false, new UTF8Encoding(false));
        csv.WriteLine("sku,title,description,category,brand,price,currency,available,image");
        for (var i = 0; i < items; i++)
        {
            var (entry, title, category) = chosen[i % chosen.Count];
            csv.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"imp-{i:D7},\"{title} no. {i}\",\"Clipart {title}, drawn for the {category} shelf\",{category},brand-{i % 40},{1 + i % 300}.99,EUR,true,{entry}"));
        }
        Console.Error.WriteLine($"catalog of {items} rows over {chosen.Count} images in {output}");
        return 0;
    }

    // "az-lizard_benji_park_01" → "az lizard benji park"
    static string TitleOf(string name) => NotLetters().Replace(name, " ").Trim();

    [GeneratedRegex("[^A-Za-z]+")]
    private static partial Regex NotLetters();

    /// <summary>Items/s of the bare sessions at batch 32 on ready-made tensors: one image and one text per item.</summary>
    public static int BareEncoders(BenchArgs args)
    {
        Console.WriteLine(Stats.F(BareItemsPerSecond(args.Get("manifest"), args.Get("catalog"), args.GetInt("seconds", 20))));
        return 0;
    }

    public static double BareItemsPerSecond(string manifestPath, string catalogDirectory, int seconds)
    {
        var manifest = ModelManifest.Load(manifestPath);
        var pipeline = EmbeddingPipeline.Create(manifest, new InferenceOptions(), new InputLimits(), NullLogger.Instance);
        var length = pipeline.Image.Preprocessor.TensorLength;
        var tensor = new float[32 * length];
        var zip = ZipFile.OpenRead(Path.Combine(catalogDirectory, "images.zip"));
        for (var i = 0; i < 32; i++)
        {
            using var stream = zip.Entries[i].Open();
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            pipeline.Image.Preprocessor.Decode(memory.ToArray(), tensor.AsSpan(i * length, length), "image");
        }
        // The very text the import embeds for each row.
        var catalog = Path.Combine(catalogDirectory, "catalog.csv");
        var titles = Similarity.Imports.CatalogRows.Read(catalog, Similarity.Imports.Formats.CatalogLayout.Detect(catalog, null, false), null).Take(32)
            .Select(row => pipeline.Text.Preprocessor.Encode(CatalogText.Compose(row.Item.Title!, row.Item.Category, row.Item.Description)))
            .ToArray();
        var textLength = titles.Max(t => t.Length);
        var (ids, mask, types) = (new long[32 * textLength], new long[32 * textLength], new long[32 * textLength]);
        for (var i = 0; i < 32; i++)
            for (var t = 0; t < titles[i].Length; t++)
                (ids[i * textLength + t], mask[i * textLength + t]) = (titles[i][t], 1);

        var image = EncoderBenchmark.Measure(seconds, 32, () => pipeline.Image.RunTensor(tensor, 32));
        var text = EncoderBenchmark.Measure(seconds, 32, () => pipeline.Text.RunTensors(ids, mask, types, 32, textLength));
        // Each item needs one image run and one text run: their times add up.
        return 1 / (1 / image + 1 / text);
    }
}
