using NpgsqlTypes;

namespace Similarity.Database;

/// <summary>
/// A standby's lag in time, from WAL positions alone: the primary's position is recorded at each check, and a standby
/// that has replayed position P lags by the time since the last check at which the primary was no further than P.
/// Unlike <c>now() - pg_last_xact_replay_timestamp()</c>, it does not grow on a standby that is idle because the
/// primary is, and it needs no clock shared between hosts. Its resolution is the check period.
/// </summary>
public sealed class ReplayLag(TimeSpan kept)
{
    readonly Queue<(TimeSpan At, NpgsqlLogSequenceNumber Primary)> _checks = new();

    /// <summary>The primary's position at <paramref name="at"/> (a monotonic clock); checks older than the kept span are let go.</summary>
    public void RecordPrimary(TimeSpan at, NpgsqlLogSequenceNumber position)
    {
        _checks.Enqueue((at, position));
        while (_checks.Count > 1 && at - _checks.Peek().At > kept)
            _checks.Dequeue();
    }

    /// <summary>
    /// Zero when <paramref name="replayed"/> reaches the latest recorded position; else the time since the latest check
    /// whose position it reaches; else (behind every check kept) at least the kept span.
    /// </summary>
    public TimeSpan LagOf(NpgsqlLogSequenceNumber replayed, TimeSpan now)
    {
        TimeSpan? reached = null;
        var latest = true;
        foreach (var (at, primary) in _checks.Reverse())
        {
            if (replayed >= primary)
            {
                reached = latest ? now : at;
                break;
            }
            latest = false;
        }
        if (_checks.Count == 0)
            return TimeSpan.Zero;
        return reached is { } time ? now - time : now - _checks.Peek().At + TimeSpan.FromTicks(1);
    }
}
