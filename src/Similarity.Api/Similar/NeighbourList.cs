namespace Similarity.Similar;

/// <summary>What a change did to a neighbour list.</summary>
public enum ListChange
{
    /// <summary>The list is as it was.</summary>
    Unchanged,
    /// <summary>The list changed and is still true: write it back.</summary>
    Changed,
    /// <summary>Where the item goes past the last is not known from the list: compute it again from the index.</summary>
    Recompute,
}

/// <summary>
/// An item's neighbour list: the nearest other items by fused cosine, best first, ties by SKU (as the lists are computed),
/// at most <see cref="CapacityOf"/> the list size long. Pure: the list worker reads and writes it; these rules decide.
/// </summary>
public sealed class NeighbourList
{
    readonly List<string> _neighbours;
    readonly List<double> _scores;

    public NeighbourList(string sku, IEnumerable<string> neighbours, IEnumerable<double> scores)
    {
        Sku = sku;
        _neighbours = [.. neighbours];
        _scores = [.. scores];
        if (_neighbours.Count != _scores.Count)
            throw new ArgumentException("A neighbour list has one score per neighbour.", nameof(scores));
    }

    /// <summary>The item whose list this is.</summary>
    public string Sku { get; }

    public IReadOnlyList<string> Neighbours => _neighbours;

    public IReadOnlyList<double> Scores => _scores;

    public int Count => _neighbours.Count;

    /// <summary>The most a list holds: its size and a fifth more, computed when a list is (re)computed, spent as items leave it.</summary>
    public static int CapacityOf(int size) => size + size / 5;

    /// <summary>Whether an item comes before another in a list: by score, ties by SKU.</summary>
    public static bool Precedes(double score, string sku, double otherScore, string otherSku) =>
        score > otherScore || (score == otherScore && string.CompareOrdinal(sku, otherSku) < 0);

    /// <summary>
    /// Whether a list that an item has just left, past its last, may stay as it is: still the exact top of what it holds,
    /// and no shorter than the list size. Otherwise it is computed again.
    /// </summary>
    public bool LongEnough(int size) => Count >= size;

    /// <summary>Whether an item with this score belongs in the list: it beats the last (or the list is empty).</summary>
    public bool Admits(string sku, double score) => Count == 0 || Precedes(score, sku, _scores[^1], _neighbours[^1]);

    /// <summary>
    /// The item <paramref name="sku"/>, which the list holds, has new vectors (<paramref name="score"/>: its score now;
    /// null when it is gone or of another model set): it moves to its place where it still belongs, else it leaves.
    /// </summary>
    public ListChange Rescore(string sku, double? score, int size)
    {
        Remove(sku);
        if (score is { } s && Admits(sku, s))
        {
            Insert(sku, s, size);
            return ListChange.Changed;
        }
        return LongEnough(size) ? ListChange.Changed : ListChange.Recompute;
    }

    /// <summary>The item <paramref name="sku"/> was deleted: it leaves the list.</summary>
    public ListChange Leave(string sku, int size)
    {
        Remove(sku);
        return LongEnough(size) ? ListChange.Changed : ListChange.Recompute;
    }

    /// <summary>
    /// The item <paramref name="sku"/> is near the list's owner with <paramref name="score"/>: it enters where it beats the
    /// last. A list shorter than the size that it does not beat (a catalog smaller than the list size, whose lists hold every
    /// item, or a list that lost items) does not say where the item goes: it is computed again.
    /// </summary>
    public ListChange Offer(string sku, double score, int size)
    {
        if (_neighbours.Contains(sku))
            return ListChange.Unchanged;
        if (Admits(sku, score))
        {
            Insert(sku, score, size);
            return ListChange.Changed;
        }
        return Count < size ? ListChange.Recompute : ListChange.Unchanged;
    }

    /// <summary>Puts <paramref name="sku"/> in its place by score, keeping at most the capacity of <paramref name="size"/>.</summary>
    public void Insert(string sku, double score, int size)
    {
        var at = 0;
        while (at < Count && Precedes(_scores[at], _neighbours[at], score, sku))
            at++;
        _neighbours.Insert(at, sku);
        _scores.Insert(at, score);
        var capacity = CapacityOf(size);
        if (Count > capacity)
        {
            _neighbours.RemoveRange(capacity, Count - capacity);
            _scores.RemoveRange(capacity, _scores.Count - capacity);
        }
    }

    void Remove(string sku)
    {
        var at = _neighbours.IndexOf(sku);
        if (at < 0)
            return;
        _neighbours.RemoveAt(at);
        _scores.RemoveAt(at);
    }
}
