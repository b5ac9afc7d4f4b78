namespace Similarity.Feedback;

/// <summary>One interleaved list: the items in the order served, and the team credited for each position.</summary>
/// <remarks><see cref="Teams"/> has one character per item: <see cref="TeamDraft.Control"/> (A) or <see cref="TeamDraft.Treatment"/> (B).</remarks>
public sealed record Interleaved<T>(IReadOnlyList<T> Items, string Teams);

/// <summary>
/// Team-draft interleaving (Radlinski, Kurup and Joachims 2008, "How does clickthrough data reflect retrieval
/// quality?", Algorithm 2): two rankings in, one list out. Like captains picking teams, the side with fewer picks so far
/// picks next (a coin decides a tie); each pick is that side's best item not yet in the list. A click on a position
/// credits the side that picked it. Pure: the coin is the caller's, so a seed gives the same list every time.
/// Invariant: at every prefix the two teams' sizes differ by at most one, and identical rankings give the ranking itself.
/// </summary>
public static class TeamDraft
{
    public const char Control = 'A', Treatment = 'B';

    /// <summary>Interleaves with coins from a generator seeded by <paramref name="seed"/> (the same seed, the same list).</summary>
    public static Interleaved<T> Interleave<T>(IReadOnlyList<T> control, IReadOnlyList<T> treatment, int k, int seed,
        IEqualityComparer<T>? comparer = null)
    {
        var random = new Random(seed);
        return Interleave(control, treatment, k, () => random.Next(2) == 0, comparer);
    }

    /// <summary>
    /// Interleaves up to <paramref name="k"/> items; <paramref name="controlWinsToss"/> is asked only when the teams
    /// are even. Stops, as the paper does, when either ranking has nothing left to pick.
    /// </summary>
    public static Interleaved<T> Interleave<T>(IReadOnlyList<T> control, IReadOnlyList<T> treatment, int k, Func<bool> controlWinsToss,
        IEqualityComparer<T>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var taken = new HashSet<T>(comparer ?? EqualityComparer<T>.Default);
        var items = new List<T>(k);
        var teams = new System.Text.StringBuilder(k);
        int controlPicks = 0, treatmentPicks = 0, nextControl = 0, nextTreatment = 0;
        while (items.Count < k)
        {
            nextControl = FirstNotTaken(control, nextControl, taken);
            nextTreatment = FirstNotTaken(treatment, nextTreatment, taken);
            if (nextControl == control.Count || nextTreatment == treatment.Count)
                break;
            var controlPicksNow = controlPicks < treatmentPicks || (controlPicks == treatmentPicks && controlWinsToss());
            var item = controlPicksNow ? control[nextControl] : treatment[nextTreatment];
            taken.Add(item);
            items.Add(item);
            teams.Append(controlPicksNow ? Control : Treatment);
            if (controlPicksNow)
                controlPicks++;
            else
                treatmentPicks++;
        }
        return new Interleaved<T>(items, teams.ToString());
    }

    static int FirstNotTaken<T>(IReadOnlyList<T> ranking, int from, HashSet<T> taken)
    {
        while (from < ranking.Count && taken.Contains(ranking[from]))
            from++;
        return from;
    }
}
