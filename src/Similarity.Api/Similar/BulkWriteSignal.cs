namespace Similarity.Similar;

/// <summary>
/// Tells the list worker that a bulk write (an import job) is running in this instance: the worker then defers its
/// rounds, at most <see cref="MaxDeferral"/> at a time, so that the import's encoders get the cores and the lists
/// catch up in bulk rounds after it (/similar answers by search for items whose lists lag). Invariant: held while any
/// hold is not disposed.
/// </summary>
public sealed class BulkWriteSignal
{
    /// <summary>Longest a round waits for a bulk write: the lists never fall further behind than a round per this.</summary>
    public static readonly TimeSpan MaxDeferral = TimeSpan.FromSeconds(10);

    int _holders;

    public bool Held => Volatile.Read(ref _holders) > 0;

    /// <summary>Held until disposed (once).</summary>
    public IDisposable Hold()
    {
        Interlocked.Increment(ref _holders);
        return new Release(this);
    }

    sealed class Release(BulkWriteSignal signal) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                Interlocked.Decrement(ref signal._holders);
        }
    }
}
