using Similarity.Similar;

namespace Similarity.UnitTests.Similar;

/// <summary>Reciprocal rank fusion on two short lists followed by hand, and the query pieces the lexical SQL is given.</summary>
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
