using Similarity.Feedback;

namespace Similarity.UnitTests.Feedback;

/// <summary>
/// Team-draft interleaving against lists worked by hand from Radlinski, Kurup and Joachims (2008), Algorithm 2, on the
/// paper's two rankings A = (a b c d g h) and B = (b e a f g h); and the A/A property: identical rankers.
/// </summary>
public sealed class TeamDraftInterleavingTests
{
    static readonly string[] A = ["a", "b", "c", "d", "g", "h"], B = ["b", "e", "a", "f", "g", "h"];

    /// <summary>A coin that answers the given tosses in order (true: control picks) and counts them.</summary>
    sealed class Coins(params bool[] tosses)
    {
        public int Asked { get; private set; }
        public bool Toss() => tosses[Asked++];
    }

    [Fact]
    public void Control_wins_the_first_and_third_toss_B_the_second()
    {
        // Tie → A picks a; B behind → B picks b; tie, B wins → B picks e (b taken); A behind → A picks c;
        // tie, A wins → A picks d; B behind → B picks f (b, e, a taken).
        var coins = new Coins(true, false, true);

        var mixed = TeamDraft.Interleave(A, B, 6, coins.Toss);

        Assert.Equal(["a", "b", "e", "c", "d", "f"], mixed.Items);
        Assert.Equal("ABBAAB", mixed.Teams);
        Assert.Equal(3, coins.Asked); // the coin decides ties only
    }

    [Fact]
    public void Treatment_winning_every_toss_alternates_from_B()
    {
        // Tie, B → b; A behind → a; tie, B → e; A behind → c; tie, B → f; A behind → d.
        var mixed = TeamDraft.Interleave(A, B, 6, new Coins(false, false, false).Toss);

        Assert.Equal(["b", "a", "e", "c", "f", "d"], mixed.Items);
        Assert.Equal("BABABA", mixed.Teams);
    }

    [Fact]
    public void A_page_shorter_than_the_rankings_stops_at_k()
    {
        var mixed = TeamDraft.Interleave(A, B, 3, new Coins(true, false).Toss);

        Assert.Equal(["a", "b", "e"], mixed.Items);
        Assert.Equal("ABB", mixed.Teams);
    }

    [Fact]
    public void It_stops_when_either_ranking_has_nothing_left_to_pick()
    {
        // The paper's loop runs while both rankings have an item not yet in the list: after x (A), A has none, so it
        // ends there although B is a pick behind. With both sides searched for k results this happens only past k.
        var mixed = TeamDraft.Interleave(["x"], ["y", "z"], 3, new Coins(true).Toss);

        Assert.Equal(["x"], mixed.Items);
        Assert.Equal("A", mixed.Teams);
    }

    [Fact]
    public void The_same_seed_gives_the_same_list_and_seeds_differ()
    {
        var lists = Enumerable.Range(0, 50).Select(seed => TeamDraft.Interleave(A, B, 6, seed).Teams).ToList();

        Assert.Equal(lists, Enumerable.Range(0, 50).Select(seed => TeamDraft.Interleave(A, B, 6, seed).Teams));
        Assert.True(lists.Distinct().Count() > 1);
    }

    [Fact]
    public void Identical_rankers_give_the_ranking_itself_with_teams_balanced_in_every_pair()
    {
        string[] ranking = ["p", "q", "r", "s", "t", "u", "v", "w", "x", "y"];
        var firstIsControl = 0;
        for (var seed = 0; seed < 1000; seed++)
        {
            var mixed = TeamDraft.Interleave(ranking, ranking, ranking.Length, seed);

            Assert.Equal(ranking, mixed.Items);
            for (var pair = 0; pair < ranking.Length; pair += 2)
                Assert.NotEqual(mixed.Teams[pair], mixed.Teams[pair + 1]);
            firstIsControl += mixed.Teams[0] == TeamDraft.Control ? 1 : 0;
        }
        Assert.InRange(firstIsControl, 450, 550); // a fair coin: 500 ± 3.2 standard deviations
    }

    [Fact]
    public void An_AA_experiment_comes_out_even_over_ten_thousand_sessions()
    {
        // Shoppers who click by position alone (examination 1/p, attractiveness 0.3), as in the A/A target.
        string[] ranking = ["p", "q", "r", "s", "t", "u", "v", "w", "x", "y"];
        var shopper = new Random(7);
        int winsControl = 0, winsTreatment = 0;
        for (var session = 0; session < 10_000; session++)
        {
            var mixed = TeamDraft.Interleave(ranking, ranking, ranking.Length, seed: session);
            int control = 0, treatment = 0;
            for (var position = 1; position <= mixed.Items.Count; position++)
                if (shopper.NextDouble() < 0.3 / position)
                {
                    if (mixed.Teams[position - 1] == TeamDraft.Control) control++;
                    else treatment++;
                }
            winsControl += control > treatment ? 1 : 0;
            winsTreatment += treatment > control ? 1 : 0;
        }

        Assert.InRange((double)winsTreatment / (winsControl + winsTreatment), 0.47, 0.53);
    }
}
