using Similarity.Similar;

namespace Similarity.UnitTests.Similar;

/// <summary>Reciprocal rank fusion and the convex combination on two short lists followed by hand, and the query pieces the lexical SQL is given.</summary>
public sealed class HybridFusionTests
{
    static Candidate Row(string sku, double score) =>
        new(new SimilarResult(sku, sku, null, null, null, null, true, null, false, score, null, null, null), null);

    static readonly Dictionary<string, Candidate> Rows = new[] { Row("a", 0.9), Row("b", 0.8), Row("c", 0.7), Row("d", 0.1) }
        .ToDictionary(r => r.Result.Sku);

    [Fact]
    public void Hybrid_sums_each_list_s_weighted_reciprocal_rank()
    {
        // vector: a b c; lexical: d b. a = .5/61; b = .5/62 + .5/62; c = .5/63; d = .5/61.
        var fused = HybridFusion.Fuse(["a", "b", "c"], ["d", "b"], Rows, new HybridChoice(RetrievalMode.Hybrid, 0.5));

        Assert.Equal(["b", "a", "d", "c"], fused.Select(c => c.Result.Sku)); // a and d tie: by SKU
        Assert.Equal(1 / 62d, fused[0].Result.HybridScore!.Value, 12);
        Assert.Equal(0.5 / 61, fused[1].Result.HybridScore!.Value, 12);
        Assert.Equal((2, 2), (fused[0].Result.VectorRank, fused[0].Result.LexicalRank));
        Assert.Equal((null, 1), (fused[2].Result.VectorRank, fused[2].Result.LexicalRank));
        Assert.Equal(0.1, fused[2].Result.VectorScore);
    }

    [Fact]
    public void The_lexical_weight_moves_the_order_towards_the_words()
    {
        // 0.8 on words: d = .8/61 = .01311; b = .2/62 + .8/62 = .01613; a = .2/61 = .00328; c = .2/63.
        var fused = HybridFusion.Fuse(["a", "b", "c"], ["d", "b"], Rows, new HybridChoice(RetrievalMode.Hybrid, 0.8));
        Assert.Equal(["b", "d", "a", "c"], fused.Select(c => c.Result.Sku));
    }

    static Candidate Scored(string sku, double vector, double lexical) => Row(sku, vector) with { Result = Row(sku, vector).Result with { LexicalScore = lexical } };

    [Fact]
    public void Convex_fusion_weighs_both_scores_rescaled_over_the_candidates()
    {
        // vector 0.9 0.8 0.7 0.5 → 1, .75, .5, 0; lexical 0 2 1 4 → 0, .5, .25, 1 (every candidate has both scores).
        // w = .75: a = .25; b = .1875 + .375 = .5625; c = .125 + .1875 = .3125; d = .75.
        var rows = new[] { Scored("a", 0.9, 0), Scored("b", 0.8, 2), Scored("c", 0.7, 1), Scored("d", 0.5, 4) }.ToDictionary(r => r.Result.Sku);
        var fused = HybridFusion.Fuse(["a", "b", "c"], ["d", "b"], rows, new HybridChoice(RetrievalMode.Hybrid, 0.75), FusionMethod.Convex);

        Assert.Equal(["d", "b", "c", "a"], fused.Select(c => c.Result.Sku));
        Assert.Equal([0.75, 0.5625, 0.3125, 0.25], fused.Select(c => Math.Round(c.Result.HybridScore!.Value, 9)));
        Assert.Equal((null, 1), (fused[0].Result.VectorRank, fused[0].Result.LexicalRank));
        Assert.Equal((3, null), (fused[2].Result.VectorRank, fused[2].Result.LexicalRank));
    }

    [Fact]
    public void Lexical_mode_keeps_the_lexical_list_alone()
    {
        var fused = HybridFusion.Fuse(["a", "b", "c"], ["d", "b"], Rows, new HybridChoice(RetrievalMode.Lexical, 0.5));
        Assert.Equal(["d", "b"], fused.Select(c => c.Result.Sku));
        Assert.Equal(1 / 61d, fused[0].Result.HybridScore!.Value, 12);
    }

    [Fact]
    public void A_word_is_a_tsquery_literal_whatever_it_holds()
    {
        Assert.Equal("'it''s'", LexicalQuery.Literal("it's"));
        Assert.Equal(@"'a\\b'", LexicalQuery.Literal(@"a\b"));
        Assert.Equal("'x & !y'", LexicalQuery.Literal("x & !y"));
    }

    [Fact]
    public void Corrections_are_searched_and_made_in_the_embedded_text()
    {
        var query = LexicalQuery.From([new("red", true, null), new("aple", false, "apple"), new("zzz", false, null)]);
        Assert.Equal(["red", "apple", "zzz"], query.Words);
        Assert.Equal(["'red'", "'apple':*", "'zzz'"], query.Literals); // prefixes from four letters
        Assert.Equal([new TypoCorrection("aple", "apple")], query.Corrections);
        Assert.Equal("Red apple pie, apple", query.Corrected("Red Aple pie, aple"));
        Assert.Equal("Red Maple", query.Corrected("Red Maple")); // whole words only
    }
}
