using Similarity.Bench;

namespace Similarity.UnitTests.Bench;

public sealed class ShopperSimulatorTests
{
    // 4 folders of 25 items: a world small enough to reason about.
    static readonly ShopperItem[] Items = [.. Enumerable.Range(0, 100).Select(i => new ShopperItem($"sku-{i:D3}", $"folder-{i % 4}", $"item {i}"))];

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 0.5743)]
    [InlineData(3, 0.4152)]
    [InlineData(5, 0.2759)]
    [InlineData(10, 0.1585)]
    public void Examination_is_one_over_p_to_the_power_0_8(int position, double expected) =>
        Assert.Equal(expected, ShopperWorld.Examination(position), 4);

    [Fact]
    public void The_same_seed_makes_the_same_world_and_another_seed_another()
    {
        var (a, b, c) = (ShopperWorld.Create(Items, 50, 7), ShopperWorld.Create(Items.Reverse().ToArray(), 50, 7), ShopperWorld.Create(Items, 50, 8));
        Assert.Equal(a.ComplementPairs, b.ComplementPairs);
        Assert.Equal(a.FoldersJudgingBy(Judgement.Picture), b.FoldersJudgingBy(Judgement.Picture));
        Assert.Equal(a.Shoppers, b.Shoppers);
        Assert.Equal(a.Popularity, b.Popularity);
        Assert.NotEqual(a.ComplementPairs, c.ComplementPairs);
    }

    [Fact]
    public void Complements_pair_half_the_items_across_folders_both_ways()
    {
        var world = ShopperWorld.Create(Items, 10, 3);
        var pairs = world.ComplementPairs.ToArray();
        Assert.Equal(25, pairs.Length); // 100 items × 0.5 / 2
        Assert.All(pairs, p => Assert.NotEqual(world.Item(p.A).Folder, world.Item(p.B).Folder));
        Assert.All(pairs, p => Assert.Equal(p.A, world.ComplementOf(p.B)));
        Assert.Equal(50, pairs.SelectMany(p => new[] { p.A, p.B }).Distinct().Count());
    }

    [Fact]
    public void Half_the_folders_judge_by_picture_and_the_others_by_words()
    {
        var world = ShopperWorld.Create(Items, 10, 3);
        var (picture, words) = (world.FoldersJudgingBy(Judgement.Picture).ToArray(), world.FoldersJudgingBy(Judgement.Words).ToArray());
        Assert.Equal(2, picture.Length);
        Assert.Equal(4, picture.Union(words).Count());
    }

    [Fact]
    public void Relevance_follows_the_cosine_of_the_shoppers_judgement_and_complements_attract_most()
    {
        var world = ShopperWorld.Create(Items, 10, 3);
        var query = Items.First(i => world.ComplementOf(i.Sku) is null).Sku;
        var taste = new ShopperTaste(world);
        taste.SetNearest(query, Judgement.Picture, [("sku-090", 0.9), ("sku-091", 0.8)]);
        taste.SetNearest(query, Judgement.Words, [("sku-092", 0.5)]);
        // best 0.9, cosine 0.8: 0.6 × exp(−0.1 / 0.05) = 0.6 × e^−2
        Assert.Equal(0.0812, taste.Relevance(query, new ShownItem("sku-091", 0.8, 0.1), Judgement.Picture), 4);
        Assert.Equal(0.6, taste.Relevance(query, new ShownItem("sku-090", 0.9, 0.1), Judgement.Picture), 12);
        // Words: the text cosine counts (0.5 is the best: the full attraction), the picture's is ignored.
        Assert.Equal(0.6, taste.Relevance(query, new ShownItem("sku-050", 0.1, 0.5), Judgement.Words), 12);
        // No score in the answer: the recorded cosine stands in; no cosine known: no relevance.
        Assert.Equal(0.0812, taste.Relevance(query, new ShownItem("sku-091", null, null), Judgement.Picture), 4);
        Assert.Equal(0, taste.Relevance(query, new ShownItem("sku-060", null, null), Judgement.Picture));

        var (a, b) = world.ComplementPairs.First();
        Assert.Equal(ShopperTaste.ComplementAttraction, new ShopperTaste(world).Relevance(a, new ShownItem(b, 0.0, 0.0), Judgement.Words));
    }

    [Fact]
    public void Clicks_follow_the_position_bias_as_written()
    {
        // Ten items as relevant as can be (each at its query's best cosine): a click at p has chance 0.6 / p^0.8.
        var world = ShopperWorld.Create(Items, 10, 3);
        var query = Items.First(i => world.ComplementOf(i.Sku) is null).Sku;
        var list = Items.Where(i => i.Sku != query && i.Sku != world.ComplementOf(query)).Take(10).Select(i => new ShownItem(i.Sku, 0.9, 0.9)).ToArray();
        var taste = new ShopperTaste(world);
        taste.SetNearest(query, Judgement.Picture, [.. list.Select(i => (i.Sku, 0.9))]);
        taste.SetNearest(query, Judgement.Words, [.. list.Select(i => (i.Sku, 0.9))]);
        var shopper = new Shopper(0, "v", world.FoldersJudgingBy(Judgement.Picture).First(), 1, 0);
        var clicks = new int[11];
        const int Visits = 100_000;
        var random = new Random(11);
        for (var v = 0; v < Visits; v++)
            foreach (var click in ShopperSession.Start(taste, shopper, random, query).React(Guid.Empty, list).Clicks)
                clicks[click.Position]++;
        for (var p = 1; p <= 10; p++)
        {
            var expected = ShopperTaste.Attraction / Math.Pow(p, 0.8);
            var sd = Math.Sqrt(expected * (1 - expected) / Visits);
            Assert.InRange((double)clicks[p] / Visits, expected - 4 * sd, expected + 4 * sd);
        }
    }

    [Fact]
    public void A_visit_is_the_same_for_the_same_seed_and_its_events_carry_the_list_only_for_list_actions()
    {
        var world = ShopperWorld.Create(Items, 20, 5);
        var taste = new ShopperTaste(world);
        foreach (var item in Items)
        {
            var others = Items.Where(i => i.Sku != item.Sku).ToArray();
            taste.SetNearest(item.Sku, Judgement.Picture, [.. others.Take(20).Select((o, r) => (o.Sku, 0.9 - 0.01 * r))]);
            taste.SetNearest(item.Sku, Judgement.Words, [.. others.Skip(20).Take(20).Select((o, r) => (o.Sku, 0.8 - 0.01 * r))]);
        }
        List<ShopperEvent> Visit(int shopper)
        {
            var session = ShopperSession.Start(taste, world.Shoppers[shopper], new Random(ShopperSession.SeedOf(5, 1, shopper)));
            var served = 0;
            while (session.Current is { } page)
                session.React(new Guid(served++, 0, 0, new byte[8]), [.. Items.Where(i => i.Sku != page).Take(10).Select(i => new ShownItem(i.Sku, 0.9, 0.8))]);
            return ShopperEvents.Of(session, "d1", new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        }
        var all = Enumerable.Range(0, 20).SelectMany(Visit).ToArray();
        Assert.Equal(all, Enumerable.Range(0, 20).SelectMany(Visit).ToArray());
        Assert.Equal(all.Length, all.Select(e => e.EventId).Distinct().Count());
        Assert.Contains(all, e => e.Type == "click");
        Assert.All(all.Where(e => e.Type == "click"), e => Assert.True(e.RequestId is not null && e.Position is >= 1 and <= 10 && e.SourceSku is not null));
        Assert.All(all.Where(e => e.Type == "view"), e => Assert.True(e.RequestId is null && e.Position is null && e.SourceSku is null));
        Assert.All(all.Where(e => e.Type == "purchase"), e => Assert.Equal((1, 9.99m, "EUR"), (e.Quantity!.Value, e.Price!.Value, e.Currency!)));
        Assert.All(all.GroupBy(e => e.SessionId), s => Assert.Equal(s.Select((_, i) => i * 15.0), s.Select(e => (e.Timestamp - s.First().Timestamp).TotalSeconds)));
    }

    [Fact]
    public void New_items_are_never_touched_before_they_arrive_and_like_any_other_after()
    {
        var world = ShopperWorld.Create(Items, 20, 6);
        var fresh = Items.Where(i => world.IsNew(i.Sku)).Select(i => i.Sku).ToHashSet();
        Assert.Equal(10, fresh.Count); // 100 items × 0.1
        var taste = new ShopperTaste(world);
        foreach (var item in Items)
            foreach (var by in new[] { Judgement.Picture, Judgement.Words })
                taste.SetNearest(item.Sku, by, [.. Items.Where(i => i.Sku != item.Sku).Select((o, r) => (o.Sku, 0.9 - 0.001 * r))]);
        IEnumerable<string> Touched(bool arrived) => Enumerable.Range(0, 2000).SelectMany(v =>
        {
            var session = ShopperSession.Start(taste, world.Shoppers[v % 20], new Random(v), arrived: arrived);
            while (session.Current is { } page)
                session.React(Guid.Empty, [.. Items.Where(i => i.Sku != page).OrderBy(i => fresh.Contains(i.Sku) ? 0 : 1).Take(10).Select(i => new ShownItem(i.Sku, 0.9, 0.9))]);
            return ShopperEvents.Of(session, "d1", DateTimeOffset.UnixEpoch).Select(e => e.Sku);
        });
        Assert.DoesNotContain(Touched(arrived: false), fresh.Contains);
        Assert.Contains(Touched(arrived: true), fresh.Contains);
    }

    [Fact]
    public void Held_out_visits_go_to_a_complement_or_a_nearest_item_and_are_seeded()
    {
        var world = ShopperWorld.Create(Items, 40, 9);
        var taste = new ShopperTaste(world);
        foreach (var item in Items)
        {
            taste.SetNearest(item.Sku, Judgement.Picture, [.. Items.Where(i => i.Sku != item.Sku).Take(5).Select((o, r) => (o.Sku, 0.9 - 0.01 * r))]);
            taste.SetNearest(item.Sku, Judgement.Words, [.. Items.Where(i => i.Sku != item.Sku).Skip(50).Take(5).Select((o, r) => (o.Sku, 0.9 - 0.01 * r))]);
        }
        var heldOut = FeedbackEvaluation.HeldOut(taste, 14);
        Assert.NotEmpty(heldOut);
        Assert.Equal(heldOut.SelectMany(v => v), FeedbackEvaluation.HeldOut(taste, 14).SelectMany(v => v));
        var allowed = Items.ToDictionary(i => i.Sku, i => Items.Where(o => o.Sku != i.Sku).Take(5).Concat(Items.Where(o => o.Sku != i.Sku).Skip(50).Take(5)).Select(o => o.Sku).ToHashSet());
        Assert.All(heldOut.SelectMany(v => v), s => Assert.True(world.ComplementOf(s.Query) == s.Next || allowed[s.Query].Contains(s.Next)));
        Assert.Contains(heldOut.SelectMany(v => v), s => world.ComplementOf(s.Query) == s.Next);
    }

    [Fact]
    public void Simulated_days_are_compressed_into_the_68_hours_before_the_last_two()
    {
        var now = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
        var clock = new ShopperClock(now, 4);
        Assert.Equal(TimeSpan.FromHours(17), clock.DayLength);
        Assert.Equal(now.AddHours(-70), clock.VisitStart(1, new Shopper(0, "v", "f", 1, 0)));
        Assert.Equal(now.AddHours(-70 + 3 * 17 + 8.5), clock.VisitStart(4, new Shopper(0, "v", "f", 1, 0.5)));
        Assert.Throws<ArgumentException>(() => new ShopperClock(now, 61));
    }

    [Fact]
    public void A_drawing_s_sku_is_that_of_the_training_data_and_gives_its_folder_back()
    {
        // hashlib.sha256(b"food/fruit/apple").hexdigest()[:16], as models/train/data.py makes it.
        Assert.Equal("oc-950975074eb71050", ShopperCatalog.SkuOf("food/fruit/apple"));
        Assert.Equal("oc-3b952b47fba1f0b4", ShopperCatalog.SkuOf("animals/cat"));
        var root = Directory.CreateTempSubdirectory("shopper-catalog").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "food", "fruit"));
            File.WriteAllBytes(Path.Combine(root, "food", "fruit", "apple.png"), []);
            Assert.Equal("food", ShopperCatalog.Folders(root)["oc-950975074eb71050"]);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
