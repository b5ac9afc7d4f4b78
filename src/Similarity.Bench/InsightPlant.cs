using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NetVips;

namespace Similarity.Bench;

/// <summary>
/// The catalog <c>bench insight</c> imports: the openclipart test split (read by models/train/data.py, so the split,
/// texts and boilerplate folders are the training code's own), with 5% of its drawings listed again under new SKUs
/// as a crop, a half-size copy or a JPEG re-encode, and another 5% given the picture of a drawing of another
/// top-level folder. Chosen by SHA-256 of the SKU, so every run plants the same.
/// </summary>
public sealed class InsightPlant
{
    public sealed record Drawing(string Sku, string Title, string Description, string Category, string Path, bool Boilerplate);

    public required List<Drawing> Drawings { get; init; }

    /// <summary>Each planted copy's SKU, the SKU it copies and how.</summary>
    public required List<(string Sku, string Of, string How)> Duplicates { get; init; }

    /// <summary>The items whose picture is another drawing's.</summary>
    public required HashSet<string> Swapped { get; init; }

    public Drawing Of(string sku) => Drawings.First(d => d.Sku == sku);

    const string DumpScript = """
        import json, sys
        sys.path.insert(0, "models/train")
        import data
        drawings = data.load_catalog()
        boilerplate = data.boilerplate_categories(drawings)
        json.dump([{"sku": d.sku, "title": d.title, "description": d.catalog_description, "category": d.category, "path": d.path,
                    "boilerplate": d.category in boilerplate} for d in drawings if d.split == "test"], open(sys.argv[1], "w"))
        """;

    /// <summary>
    /// Reads the split and writes <c>catalog.csv</c> and <c>images.zip</c> into <paramref name="work"/>; <paramref name="count"/>
    /// drawings at most. <paramref name="seed"/> draws another plant (none: the first runs' draw).
    /// </summary>
    public static async Task<InsightPlant> WriteAsync(BenchPlace place, string work, int count, int? seed = null)
    {
        var dump = Path.Combine(work, "drawings.json");
        using (var python = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", DumpScript, dump]) { WorkingDirectory = place.Root })!)
        {
            await python.WaitForExitAsync();
            if (python.ExitCode != 0)
                throw new InvalidOperationException("reading the openclipart test split (models/train/data.py) failed");
        }
        var drawings = JsonSerializer.Deserialize<List<Drawing>>(await File.ReadAllTextAsync(dump), JsonSerializerOptions.Web)!
            .OrderBy(d => d.Sku, StringComparer.Ordinal).Take(count).ToList();
        var byHash = drawings.OrderBy(d => Hash((seed is { } s ? $"insight {s} " : "insight ") + d.Sku), StringComparer.Ordinal).ToList();
        var planted = Math.Max(1, drawings.Count / 20);
        string[] hows = ["crop", "half", "jpeg"];
        var duplicates = byHash.Take(planted).Select((d, i) => ($"{d.Sku}-{hows[i % 3]}", d.Sku, hows[i % 3])).ToList();
        var swapped = byHash.Skip(planted).Take(planted).ToList();
        var plant = new InsightPlant { Drawings = drawings, Duplicates = duplicates, Swapped = [.. swapped.Select(d => d.Sku)] };

        var pictureOf = drawings.ToDictionary(d => d.Sku, d => d.Path);
        foreach (var d in swapped)
        {
            // The next drawing (in hash order) of another top-level folder lends its picture.
            var top = d.Category.Split('/')[0];
            pictureOf[d.Sku] = byHash.SkipWhile(o => o.Sku != d.Sku).Concat(byHash).First(o => o.Category.Split('/')[0] != top).Path;
        }
        var csv = new StringBuilder("sku,title,description,image\n");
        await using (var zipFile = File.Create(Path.Combine(work, "images.zip")))
        using (var zip = new ZipArchive(zipFile, ZipArchiveMode.Create))
        {
            foreach (var d in drawings)
            {
                zip.CreateEntryFromFile(Path.Combine(BenchPlace.Clipart, pictureOf[d.Sku] + ".png"), d.Sku + ".png", CompressionLevel.NoCompression);
                csv.Append(Row(d.Sku, d, d.Sku + ".png"));
            }
            foreach (var (sku, of, how) in duplicates)
            {
                var (bytes, extension) = Variant(Path.Combine(BenchPlace.Clipart, plant.Of(of).Path + ".png"), how);
                await using (var entry = zip.CreateEntry($"{sku}.{extension}", CompressionLevel.NoCompression).Open())
                    await entry.WriteAsync(bytes);
                csv.Append(Row(sku, plant.Of(of), $"{sku}.{extension}"));
            }
        }
        await File.WriteAllTextAsync(Path.Combine(work, "catalog.csv"), csv.ToString());
        return plant;
    }

    static string Row(string sku, Drawing d, string image) => string.Join(',', new[] { sku, d.Title, d.Description, image }.Select(Quote)) + "\n";

    static string Quote(string value) => "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>As bench quality's near-duplicates: 85% of each side off-centre, half size, or a JPEG of quality 60 on white.</summary>
    static (byte[] Bytes, string Extension) Variant(string png, string how)
    {
        using var image = Image.NewFromFile(png);
        switch (how)
        {
            case "crop":
                using (var crop = image.Crop((int)Math.Round(0.05 * image.Width), (int)Math.Round(0.10 * image.Height),
                           (int)Math.Round(0.85 * image.Width), (int)Math.Round(0.85 * image.Height)))
                    return (crop.PngsaveBuffer(), "png");
            case "half":
                using (var half = image.Resize(0.5))
                    return (half.PngsaveBuffer(), "png");
            default:
                using (var flat = image.HasAlpha() ? image.Flatten(background: [255, 255, 255]) : image.Copy())
                    return (flat.JpegsaveBuffer(q: 60), "jpg");
        }
    }

    public static string F(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
}
