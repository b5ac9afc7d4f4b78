namespace Similarity.Models;

/// <summary>How fast the embedding job goes: items written over the last minute, per set. Thread-safe.</summary>
internal sealed class EmbeddingRate
{
    static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    readonly Lock _lock = new();
    readonly Dictionary<string, Queue<(long Ticks, int Items)>> _recent = new(StringComparer.Ordinal);

    public void Record(string set, int items)
    {
        lock (_lock)
        {
            if (!_recent.TryGetValue(set, out var queue))
                _recent[set] = queue = new();
            queue.Enqueue((Environment.TickCount64, items));
            Trim(queue);
        }
    }

    /// <summary>Items per second over the last minute; null before the first batch.</summary>
    public double? Rate(string set)
    {
        lock (_lock)
        {
            if (!_recent.TryGetValue(set, out var queue))
                return null;
            Trim(queue);
            if (queue.Count == 0)
                return 0;
            var seconds = Math.Max(1, (Environment.TickCount64 - queue.Peek().Ticks) / 1000.0);
            return queue.Sum(e => e.Items) / seconds;
        }
    }

    public double? EtaSeconds(string set, long left) => left == 0 ? 0 : Rate(set) is > 0 and var rate ? left / rate : null;

    static void Trim(Queue<(long Ticks, int Items)> queue)
    {
        while (queue.Count > 0 && Environment.TickCount64 - queue.Peek().Ticks > Window.TotalMilliseconds)
            queue.Dequeue();
    }
}
