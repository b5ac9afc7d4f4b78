using Similarity.Similar;

namespace Similarity.UnitTests.Similar;

/// <summary>What the list worker remembers between rounds, on a few lists and queued changes followed by hand.</summary>
public sealed class ListProvenanceTests
{
    static readonly HashSet<string> None = new(StringComparer.Ordinal);

    [Fact]
    public void Lists_this_process_did_not_compute_count_as_older_than_every_change()
    {
        var provenance = new ListProvenance();
        Assert.False(provenance.Follows(7)); // a fresh process has committed no round: round 7 is another instance's successor
        provenance.Forget(["a", "b"]);
        provenance.Read([("x", "v1")], round: 7);

        Assert.Equal(["a", "b"], provenance.ComputedBefore(provenance.SeenIn("x", "v1", 7), None).Order());
    }

    [Fact]
    public void A_change_is_seen_in_the_first_round_that_read_it_until_its_version_changes()
    {
        var provenance = new ListProvenance();
        Assert.Equal(2, provenance.Read([("x", "v1"), ("y", "v1")], round: 3));
        provenance.Read([("x", "v1"), ("y", "v2")], round: 4); // y changed again before a round took it

        Assert.Equal(3, provenance.SeenIn("x", "v1", round: 4));
        Assert.Equal(4, provenance.SeenIn("y", "v2", round: 4));
        Assert.Equal(4, provenance.SeenIn("z", "v9", round: 4)); // committed after the read: the claim sees it
    }

    [Fact]
    public void Lists_computed_before_a_change_was_seen_are_older_unless_queued_or_taken()
    {
        var provenance = new ListProvenance();
        provenance.Committed(1, new Dictionary<string, bool> { ["a"] = true, ["b"] = true, ["c"] = true, ["d"] = true });
        Assert.True(provenance.Follows(2));
        provenance.Committed(2, new Dictionary<string, bool> { ["b"] = true, ["d"] = false }); // b again; d dropped
        provenance.Read([("x", "v1"), ("c", "v1")], round: 3); // c is queued itself

        // Seen in round 3: a (round 1) is older; b (round 2) too; c is queued; d is gone; x is taken.
        Assert.Equal(["a", "b"], provenance.ComputedBefore(provenance.SeenIn("x", "v1", 3), new HashSet<string>(["x"], StringComparer.Ordinal)).Order());
        // Seen in round 2: only lists of round 1 are older, and b was computed again in round 2.
        Assert.Equal(["a"], provenance.ComputedBefore(2, None));
    }
}
