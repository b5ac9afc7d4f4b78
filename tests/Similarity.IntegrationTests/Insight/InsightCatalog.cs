using NetVips;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Insight;

/// <summary>
/// The trained clipart model set over 40 openclipart drawings (animals, food, plants, buildings, tools; title from
/// the file name, category from the folder), plus what the insight tests look for: a crop, a resize and a JPEG
/// re-encode of three known drawings under new SKUs, and one food title whose picture is a building's. The
/// clustering duty looks every second.
/// </summary>
public sealed class InsightCatalog : KestrelSimilarityApp
{
    public static readonly string[] Folders = ["animals", "food", "plants", "buildings", "tools"];

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Similarity:Models:Manifest", TestPaths.Models("clipart") + "/manifest.json"),
        new("Similarity:Insight:ClusterCheckSeconds", "1"),
    ];

    public List<TestItem> Originals { get; } = [];

    /// <summary>Each planted copy's SKU and the SKU of the drawing it copies.</summary>
    public List<(string Sku, string Of, string How)> Planted { get; } = [];

    /// <summary>The item whose picture shows something else than its text (a food title, a building's picture).</summary>
    public const string Swapped = "swapped-food";

    public string SwappedPictureOf { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var client = CreateAdminClient();
        foreach (var folder in Folders)
        {
            foreach (var (path, i) in Clipart.Drawings(folder, 8).Select((p, i) => (p, i)))
                Originals.Add(new TestItem($"{folder}-{i}", TitleOf(path), folder, Brand: "openclipart", Price: 10 + i, Image: await File.ReadAllBytesAsync(path)));
        }
        foreach (var item in Originals)
            await client.PutItemAsync(item);

        // Copies of animals-1, food-2 and plants-3: same words, the picture cropped, resized or re-encoded, another price.
        foreach (var (of, how, image) in new[]
        {
            ("animals-1", "crop", Crop(Original("animals-1").Image!)),
            ("food-2", "resize", Resize(Original("food-2").Image!)),
            ("plants-3", "jpeg", Jpeg(Original("plants-3").Image!)),
        })
        {
            var original = Original(of);
            var sku = $"copy-{how}-{of}";
            Planted.Add((sku, of, how));
            await client.PutItemAsync(original with { Sku = sku, Image = image, Price = original.Price + 1 });
        }
        SwappedPictureOf = "buildings-5";
        var food = Original("food-6");
        await client.PutItemAsync(food with { Sku = Swapped, Image = Original(SwappedPictureOf).Image });
        await NeighbourLists.AppliedAsync(Database);
    }

    public TestItem Original(string sku) => Originals.Single(o => o.Sku == sku);

    public int Count => Originals.Count + Planted.Count + 1;

    /// <summary>The words of a drawing's file name: "juice_glass_andremarcel._01" → "juice glass andremarcel".</summary>
    public static string TitleOf(string path) =>
        string.Join(' ', Path.GetFileNameWithoutExtension(path).Split(['_', '-', '.', ' '], StringSplitOptions.RemoveEmptyEntries).Where(w => !w.All(char.IsDigit)));

    /// <summary>The middle 85% of the picture.</summary>
    static byte[] Crop(byte[] png)
    {
        using var image = Image.NewFromBuffer(png);
        var (w, h) = ((int)(image.Width * 0.85), (int)(image.Height * 0.85));
        using var cropped = image.Crop((image.Width - w) / 2, (image.Height - h) / 2, w, h);
        return cropped.PngsaveBuffer();
    }

    static byte[] Resize(byte[] png) => TestImages.Resized(png, 200, ".png");

    /// <summary>The picture flattened on white and saved as a JPEG of quality 70.</summary>
    static byte[] Jpeg(byte[] png)
    {
        using var image = Image.NewFromBuffer(png);
        using var flat = image.HasAlpha() ? image.Flatten(background: [255, 255, 255]) : image.Copy();
        return flat.JpegsaveBuffer(q: 70);
    }
}
