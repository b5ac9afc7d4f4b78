using NpgsqlTypes;
using Similarity.Database;

namespace Similarity.UnitTests.Database;

/// <summary>The pure parts of reads on standbys: a standby's lag from WAL positions, the rotation, a multi-host string.</summary>
public sealed class ReplicaRoutingTests
{
    static readonly TimeSpan Second = TimeSpan.FromSeconds(1), MaxLag = TimeSpan.FromSeconds(5);

    static NpgsqlLogSequenceNumber Lsn(ulong value) => new(value);

    [Fact]
    public void A_standby_at_the_primarys_latest_position_lags_by_nothing()
    {
        var lag = new ReplayLag(TimeSpan.FromSeconds(10));
        lag.RecordPrimary(1 * Second, Lsn(100));
        lag.RecordPrimary(2 * Second, Lsn(200));
        Assert.Equal(TimeSpan.Zero, lag.LagOf(Lsn(200), 2 * Second));
        Assert.Equal(TimeSpan.Zero, lag.LagOf(Lsn(250), 2 * Second));
    }

    [Fact]
    public void A_standby_behind_lags_by_the_time_since_the_primary_was_where_it_is()
    {
        var lag = new ReplayLag(TimeSpan.FromSeconds(10));
        lag.RecordPrimary(1 * Second, Lsn(100));
        lag.RecordPrimary(2 * Second, Lsn(200));
        lag.RecordPrimary(3 * Second, Lsn(300));
        // Replayed 150: it has what the primary had at 1 s, not at 2 s; now is 3.5 s.
        Assert.Equal(2.5 * Second, lag.LagOf(Lsn(150), 3.5 * Second));
        Assert.Equal(1.5 * Second, lag.LagOf(Lsn(200), 3.5 * Second));
    }

    [Fact]
    public void A_standby_behind_every_check_kept_lags_more_than_the_span_kept()
    {
        var lag = new ReplayLag(TimeSpan.FromSeconds(2));
        for (var s = 1; s <= 6; s++)
            lag.RecordPrimary(s * Second, Lsn((ulong)s * 100));
        // Checks older than 2 s are let go: the oldest kept is at 4 s; 50 is behind all of them.
        Assert.True(lag.LagOf(Lsn(50), 6 * Second) > 2 * Second);
    }

    [Fact]
    public void A_standby_idle_with_an_idle_primary_does_not_lag()
    {
        var lag = new ReplayLag(TimeSpan.FromSeconds(10));
        for (var s = 1; s <= 9; s++)
            lag.RecordPrimary(s * Second, Lsn(500));
        Assert.Equal(TimeSpan.Zero, lag.LagOf(Lsn(500), 9 * Second));
    }

    [Fact]
    public void The_rotation_leaves_out_a_standby_over_the_bound_and_takes_it_back_when_it_catches_up()
    {
        var rotation = new StandbyRotation();
        Assert.True(rotation.Allows("h", 1, MaxLag)); // never observed
        Assert.False(rotation.Observe("h", 1, isStandby: true, Lsn(10), TimeSpan.FromSeconds(1), MaxLag));
        Assert.True(rotation.Observe("h", 1, isStandby: true, Lsn(10), TimeSpan.FromSeconds(6), MaxLag)); // it leaves: true once
        Assert.False(rotation.Observe("h", 1, isStandby: true, Lsn(10), TimeSpan.FromSeconds(7), MaxLag));
        Assert.False(rotation.Allows("h", 1, MaxLag));
        rotation.Observe("h", 1, isStandby: true, Lsn(20), TimeSpan.Zero, MaxLag);
        Assert.True(rotation.Allows("h", 1, MaxLag));
        Assert.Equal(ServedBy.Standby, rotation.RoleOf("h", 1));
    }

    [Fact]
    public void The_primary_is_always_in_the_rotation()
    {
        var rotation = new StandbyRotation();
        rotation.Observe("p", 1, isStandby: false, Lsn(10), TimeSpan.FromHours(1), MaxLag);
        Assert.True(rotation.Allows("p", 1, MaxLag));
        Assert.False(rotation.HoldUntil("p", 1, Lsn(99), MaxLag));
        Assert.Equal(ServedBy.Primary, rotation.RoleOf("p", 1));
    }

    [Fact]
    public void A_standby_held_for_a_token_stays_out_until_it_has_replayed_it()
    {
        var rotation = new StandbyRotation();
        rotation.Observe("s", 2, isStandby: true, Lsn(100), TimeSpan.Zero, MaxLag);
        Assert.True(rotation.HoldUntil("s", 2, Lsn(150), MaxLag));
        Assert.False(rotation.HoldUntil("s", 2, Lsn(120), MaxLag)); // already out: no second clearing of the pools
        Assert.False(rotation.Allows("s", 2, MaxLag));
        rotation.Observe("s", 2, isStandby: true, Lsn(149), TimeSpan.Zero, MaxLag);
        Assert.False(rotation.Allows("s", 2, MaxLag));
        rotation.Observe("s", 2, isStandby: true, Lsn(150), TimeSpan.Zero, MaxLag);
        Assert.True(rotation.Allows("s", 2, MaxLag));
        Assert.False(rotation.HoldUntil("s", 2, Lsn(150), MaxLag)); // it has it: nothing to wait for
    }

    [Fact]
    public void Hosts_are_read_with_their_own_port_or_the_strings()
    {
        Assert.Equal([("127.0.0.1", 5501), ("127.0.0.1", 5502)], DatabaseHosts.HostsOf("Host=127.0.0.1:5501,127.0.0.1:5502;Username=u"));
        Assert.Equal([("a", 6000), ("b", 6001)], DatabaseHosts.HostsOf("Host=a,b:6001;Port=6000"));
        Assert.Equal([("localhost", 5432)], DatabaseHosts.HostsOf("Host=localhost"));
    }

    [Fact]
    public void A_consistency_token_is_a_wal_position_in_postgresqls_form()
    {
        Assert.Equal(new NpgsqlLogSequenceNumber(0x16_B374D848), Consistency.Parse("16/B374D848"));
        Assert.Null(Consistency.Parse("not a position"));
        Assert.Null(Consistency.Parse(null));
    }

    [Fact]
    public void A_dutys_key_is_stable_and_non_negative()
    {
        // FNV-1a of "lists", masked to 31 bits: computed by hand from the algorithm, not by the code.
        Assert.Equal(1638728950, Leadership.KeyOf("lists"));
        Assert.NotEqual(Leadership.KeyOf("lists"), Leadership.KeyOf("clusters"));
        Assert.All(new[] { "lists", "standbyEmbedder", "feedbackRebuild", "clusters", "feedbackPartitions" }, d => Assert.True(Leadership.KeyOf(d) >= 0));
    }

    static StandbyWatch.HostObservation Seen(string host, bool isStandby, ulong lsn) => new(host, 1, (isStandby, Lsn(lsn)));

    static StandbyWatch.HostObservation Down(string host) => new(host, 1, null);

    [Fact]
    public void While_no_primary_answers_the_standbys_keep_their_place_in_the_rotation()
    {
        var rotation = new StandbyRotation();
        var lag = new ReplayLag(2 * MaxLag);
        // The primary wrote up to 200 before it died; the standby had replayed 150 of it, and never gets the rest.
        var leftOut = StandbyWatch.Apply(rotation, lag, [Seen("p", false, 200), Seen("s", true, 150)], 1 * Second, MaxLag);
        for (var s = 2; s <= 20; s++)
            leftOut.AddRange(StandbyWatch.Apply(rotation, lag, [Down("p"), Seen("s", true, 150)], s * Second, MaxLag));
        Assert.Empty(leftOut);
        Assert.True(rotation.Allows("s", 1, MaxLag));
    }

    [Fact]
    public void With_a_primary_answering_a_standby_as_far_behind_leaves_the_rotation()
    {
        var rotation = new StandbyRotation();
        var lag = new ReplayLag(2 * MaxLag);
        var leftOut = StandbyWatch.Apply(rotation, lag, [Seen("p", false, 200), Seen("s", true, 150)], 1 * Second, MaxLag);
        for (var s = 2; s <= 20; s++)
            leftOut.AddRange(StandbyWatch.Apply(rotation, lag, [Seen("p", false, 200 + (ulong)s), Seen("s", true, 150)], s * Second, MaxLag));
        Assert.Equal("s", Assert.Single(leftOut).Host);
        Assert.False(rotation.Allows("s", 1, MaxLag));
    }
}
