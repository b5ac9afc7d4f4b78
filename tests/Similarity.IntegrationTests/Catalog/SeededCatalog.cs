using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>
/// A catalog of a few hundred items put through the real API: text for all, images for every other one,
/// 10 categories, 5 common brands and one rare brand on 1% of items, prices 1–300, some unavailable, and a
/// near-duplicate pair (same photo resized and re-encoded, same title).
/// </summary>
public sealed class SeededCatalog : SimilarityApp
{
    public const int Count = 400;
    public const string RareBrand = "Rarebrand";
    public static readonly string[] Categories = ["shirts", "shoes", "bags", "lamps", "mugs", "toys", "hats", "books", "chairs", "socks"];
    public static readonly string[] Brands = ["acme", "globex", "initech", "umbrella", "hooli"];
    static readonly string[] Words = ["red", "blue", "green", "black", "white", "cotton", "wool", "leather", "soft", "classic",
        "modern", "vintage", "large", "small", "premium", "summer", "winter", "kids", "men", "women"];

    public static string SkuOf(int i) => $"sku-{i:D4}";

    /// <summary>
    /// No precomputed lists: these classes hold the live search to a brute force, exactly; the lists, whose recall is
    /// a target rather than a guarantee, have their own tests (SimilarListsTests).
    /// </summary>
    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Search:ListSize", "0")];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var random = new Random(42);
        var items = new List<TestItem>();
        for (var i = 0; i < Count; i++)
        {
            var category = Categories[i % Categories.Length];
            var title = $"{Words[random.Next(Words.Length)]} {Words[random.Next(Words.Length)]} {category[..^1]} {Words[random.Next(Words.Length)]}";
            items.Add(new TestItem(SkuOf(i), title, category,
                Brand: i % 100 == 7 ? RareBrand : Brands[random.Next(Brands.Length)],
                Price: random.Next(100, 30000) / 100m,
                Available: i % 5 != 0,
                Image: i % 2 == 0 ? TestImages.Noise(48, 40, seed: i) : null));
        }
        // The near-duplicate pair: one photo, and the same photo resized to 90% and re-encoded as JPEG.
        var photo = TestImages.Noise(300, 300, seed: 9001, ".png");
        items.Add(new TestItem("dup-original", "vintage leather satchel bag", "bags", "acme", 120m, Image: photo));
        items.Add(new TestItem("dup-copy", "vintage leather satchel bag", "bags", "acme", 99m, Image: TestImages.Resized(photo, 270, ".jpg")));

        var client = CreateAdminClient();
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (item, _) => await client.PutItemAsync(item));
    }
}
