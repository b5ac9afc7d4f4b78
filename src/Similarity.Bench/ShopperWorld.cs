namespace Similarity.Bench;

/// <summary>One catalog item as the simulator knows it: its SKU, its openclipart folder (top level) and its title.</summary>
public sealed record ShopperItem(string Sku, string Folder, string Title);

/// <summary>How the shoppers of a folder judge what is alike: by the pictures' cosine or by the texts' cosine.</summary>
public enum Judgement { Picture, Words }

/// <summary>
/// A shopper: an opaque visitor id, the folder they shop in (whose <see cref="Judgement"/> they follow), the chance
/// they visit on a given day, and the fraction of each simulated day at which their visit starts (the same every day,
/// so two visits of one shopper are a whole simulated day apart).
/// </summary>
public sealed record Shopper(int Id, string VisitorId, string HomeFolder, double VisitRate, double DayOffset);

/// <summary>
/// The simulator's hidden structure, drawn once from the seed: which folders judge by picture and which by words,
/// the complement pairs (items bought together across different folders), each item's popularity and the shoppers.
/// Only the simulator reads it; the loop learns it, if at all, from the events. The constants below are its
/// written-down truth (docs/benchmarks.md, "The closed loop measured offline"); the same items, count and seed give the same world.
/// </summary>
public sealed class ShopperWorld
{
    /// <summary>The chance of examining position p is 1 / p^0.8 (position 1: 1).</summary>
    public const double ExaminationExponent = 0.8;

    /// <summary>The share of folders whose shoppers judge by picture; the others judge by words.</summary>
    public const double PictureFolderShare = 0.5;

    /// <summary>The share of items that belong to a complement pair (the other item always in another folder).</summary>
    public const double ComplementShare = 0.5;

    /// <summary>Landing popularity: the item of popularity rank r is drawn with weight 1 / r^0.7.</summary>
    public const double PopularityExponent = 0.7;

    /// <summary>A shopper lands in their own folder with this chance, elsewhere in the catalog otherwise.</summary>
    public const double HomeFolderLanding = 0.7;

    /// <summary>
    /// The share of items that arrive only when the training days end: no shopper lands on, clicks or goes to them
    /// before (they are served in lists all the same), and from the first held-out day they are like any other item.
    /// </summary>
    public const double NewShare = 0.1;

    /// <summary>A visit's chance per day is drawn uniformly from this range, per shopper.</summary>
    public const double MinVisitRate = 0.2, MaxVisitRate = 0.6;

    readonly Dictionary<string, ShopperItem> _bySku;
    readonly Dictionary<string, string> _complements;
    readonly HashSet<string> _new;
    readonly Dictionary<string, Judgement> _judgements;
    readonly Dictionary<string, double[]> _folderCumulative;
    readonly Dictionary<string, ShopperItem[]> _folderItems;
    readonly double[] _cumulative;

    public IReadOnlyList<ShopperItem> Items { get; }
    public IReadOnlyList<Shopper> Shoppers { get; }
    public int Seed { get; }

    /// <summary>Each item's landing weight (1 / rank^<see cref="PopularityExponent"/>), in <see cref="Items"/>' order.</summary>
    public IReadOnlyList<double> Popularity { get; }

    ShopperWorld(IReadOnlyList<ShopperItem> items, IReadOnlyList<Shopper> shoppers, int seed, double[] popularity,
        Dictionary<string, string> complements, Dictionary<string, Judgement> judgements, HashSet<string> arrivals)
    {
        (Items, Shoppers, Seed, Popularity, _complements, _judgements, _new) = (items, shoppers, seed, popularity, complements, judgements, arrivals);
        _bySku = items.ToDictionary(i => i.Sku, StringComparer.Ordinal);
        _cumulative = Cumulative(popularity);
        _folderItems = items.Select((item, i) => (item, i)).GroupBy(x => x.item.Folder, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(x => x.item).ToArray(), StringComparer.Ordinal);
        _folderCumulative = items.Select((item, i) => (item, i)).GroupBy(x => x.item.Folder, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Cumulative([.. g.Select(x => popularity[x.i])]), StringComparer.Ordinal);
    }

    /// <summary>The world of <paramref name="items"/> (SKUs distinct) with <paramref name="shopperCount"/> shoppers, drawn from <paramref name="seed"/>.</summary>
    public static ShopperWorld Create(IReadOnlyList<ShopperItem> items, int shopperCount, int seed)
    {
        if (items.Count < 2)
            throw new ArgumentException("The simulator needs at least two items.", nameof(items));
        var random = new Random(seed);
        // Sorted first, so the world depends on the items and the seed, not on the order the catalog listed them in.
        var sorted = items.OrderBy(i => i.Sku, StringComparer.Ordinal).ToArray();
        var folders = sorted.Select(i => i.Folder).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        random.Shuffle(folders);
        var pictureFolders = (int)Math.Round(folders.Length * PictureFolderShare);
        var judgements = folders.Select((f, i) => (f, i)).ToDictionary(x => x.f, x => x.i < pictureFolders ? Judgement.Picture : Judgement.Words, StringComparer.Ordinal);

        var order = (ShopperItem[])sorted.Clone();
        random.Shuffle(order);
        var popularity = new double[sorted.Length];
        var rankOf = order.Select((item, rank) => (item.Sku, rank)).ToDictionary(x => x.Sku, x => x.rank, StringComparer.Ordinal);
        for (var i = 0; i < sorted.Length; i++)
            popularity[i] = 1 / Math.Pow(rankOf[sorted[i].Sku] + 1, PopularityExponent);

        var complements = PairAcrossFolders(sorted, random);
        var shoppers = new Shopper[shopperCount];
        var landing = Cumulative(popularity);
        for (var s = 0; s < shopperCount; s++)
        {
            var home = sorted[Draw(landing, random)].Folder;
            var rate = MinVisitRate + (MaxVisitRate - MinVisitRate) * random.NextDouble();
            // Visits start in the first 80% of a day, so a visit ends before the next day begins.
            shoppers[s] = new Shopper(s, $"shopper-{seed}-{s:D6}", home, rate, 0.8 * random.NextDouble());
        }
        var arrivals = (ShopperItem[])sorted.Clone();
        random.Shuffle(arrivals);
        var late = arrivals.Take((int)(sorted.Length * NewShare)).Select(i => i.Sku).ToHashSet(StringComparer.Ordinal);
        return new ShopperWorld(sorted, shoppers, seed, popularity, complements, judgements, late);
    }

    /// <summary>
    /// Complement pairs: the items in a seeded order, each unpaired one paired with the next unpaired one of another
    /// folder, until <see cref="ComplementShare"/> of the items are paired. Both directions are kept.
    /// </summary>
    static Dictionary<string, string> PairAcrossFolders(ShopperItem[] sorted, Random random)
    {
        var order = (ShopperItem[])sorted.Clone();
        random.Shuffle(order);
        var wanted = (int)(sorted.Length * ComplementShare / 2);
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        var unpaired = new List<ShopperItem>(order);
        while (pairs.Count / 2 < wanted && unpaired.Count > 1)
        {
            var first = unpaired[0];
            var partner = unpaired.FindIndex(1, i => !string.Equals(i.Folder, first.Folder, StringComparison.Ordinal));
            unpaired.RemoveAt(0);
            if (partner < 0)
                continue; // only its own folder is left: it stays without a complement
            var second = unpaired[partner - 1];
            unpaired.RemoveAt(partner - 1);
            (pairs[first.Sku], pairs[second.Sku]) = (second.Sku, first.Sku);
        }
        return pairs;
    }

    public ShopperItem Item(string sku) => _bySku[sku];

    public bool Contains(string sku) => _bySku.ContainsKey(sku);

    /// <summary>Whether <paramref name="sku"/> arrives only after the training days (<see cref="NewShare"/>).</summary>
    public bool IsNew(string sku) => _new.Contains(sku);

    /// <summary>The item bought together with <paramref name="sku"/> (always of another folder), or null.</summary>
    public string? ComplementOf(string sku) => _complements.GetValueOrDefault(sku);

    /// <summary>How shoppers in <paramref name="folder"/> judge.</summary>
    public Judgement JudgementOf(string folder) => _judgements[folder];

    /// <summary>Every complement pair once (the SKU first in ordinal order).</summary>
    public IEnumerable<(string A, string B)> ComplementPairs =>
        _complements.Where(p => string.CompareOrdinal(p.Key, p.Value) < 0).Select(p => (p.Key, p.Value));

    /// <summary>The folders of each judgement.</summary>
    public IEnumerable<string> FoldersJudgingBy(Judgement judgement) =>
        _judgements.Where(j => j.Value == judgement).Select(j => j.Key).Order(StringComparer.Ordinal);

    /// <summary>The true chance of examining 1-based <paramref name="position"/>: 1 / p^<see cref="ExaminationExponent"/>.</summary>
    public static double Examination(int position) => 1 / Math.Pow(position, ExaminationExponent);

    /// <summary>
    /// Where a visit of <paramref name="shopper"/> lands: in their folder (<see cref="HomeFolderLanding"/>) or anywhere, by
    /// popularity; before the new items <paramref name="arrived"/>, never on one of them (drawn again).
    /// </summary>
    public string Landing(Shopper shopper, Random random, bool arrived = true)
    {
        while (true)
        {
            var sku = random.NextDouble() < HomeFolderLanding && _folderItems.TryGetValue(shopper.HomeFolder, out var home)
                ? home[Draw(_folderCumulative[shopper.HomeFolder], random)].Sku
                : Items[Draw(_cumulative, random)].Sku;
            if (arrived || !IsNew(sku))
                return sku;
        }
    }

    static double[] Cumulative(double[] weights)
    {
        var cumulative = new double[weights.Length];
        var sum = 0.0;
        for (var i = 0; i < weights.Length; i++)
            cumulative[i] = sum += weights[i];
        return cumulative;
    }

    /// <summary>An index drawn with the weights whose running sums are <paramref name="cumulative"/>.</summary>
    internal static int Draw(double[] cumulative, Random random)
    {
        var at = random.NextDouble() * cumulative[^1];
        var index = Array.BinarySearch(cumulative, at);
        index = index < 0 ? ~index : index + 1;
        return Math.Min(index, cumulative.Length - 1);
    }
}
