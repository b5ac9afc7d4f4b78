using System.Threading.Channels;

namespace Similarity.Encoders;

/// <summary>The result of one item in a batch: its value, or why that item alone failed.</summary>
public readonly record struct Outcome<T>(T? Value, Exception? Error);

/// <summary>
/// Coalesces concurrent requests into one model run. A single worker drains whatever is queued (up to the batch
/// size) and runs it at once; only when a batch already holds two or more items does it wait up to the delay
/// for more. A lone request therefore never waits, and under load batches fill up by themselves.
/// </summary>
public sealed class MicroBatcher<TIn, TOut> : IAsyncDisposable
{
    readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new() { SingleReader = true });
    readonly Func<IReadOnlyList<TIn>, Outcome<TOut>[]> _run;
    readonly int _maxBatch;
    readonly TimeSpan _maxDelay;
    readonly Task _worker;

    sealed record Pending(TIn Input, TaskCompletionSource<TOut> Completion, CancellationToken Cancellation);

    public MicroBatcher(Func<IReadOnlyList<TIn>, Outcome<TOut>[]> run, int maxBatch, TimeSpan maxDelay)
    {
        _run = run;
        _maxBatch = maxBatch;
        _maxDelay = maxDelay;
        _worker = Task.Run(WorkAsync);
    }

    /// <summary>Sizes of the batches run so far, for tests and metrics.</summary>
    public event Action<int>? BatchRan;

    public Task<TOut> EnqueueAsync(TIn input, CancellationToken cancellationToken = default)
    {
        var completion = new TaskCompletionSource<TOut>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Pending(input, completion, cancellationToken)))
            throw new ObjectDisposedException(nameof(MicroBatcher<TIn, TOut>));
        return completion.Task.WaitAsync(cancellationToken);
    }

    async Task WorkAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(_maxBatch);
        var inputs = new List<TIn>(_maxBatch);
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            Drain(reader, batch);
            if (batch.Count > 1 && batch.Count < _maxBatch && _maxDelay > TimeSpan.Zero)
            {
                using var timeout = new CancellationTokenSource(_maxDelay);
                try
                {
                    while (batch.Count < _maxBatch && await reader.WaitToReadAsync(timeout.Token))
                        Drain(reader, batch);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                }
            }
            if (batch.Count == 0)
                continue;

            inputs.Clear();
            foreach (var pending in batch)
                inputs.Add(pending.Input);
            Outcome<TOut>[] outcomes;
            try
            {
                outcomes = _run(inputs);
            }
            catch (Exception ex)
            {
                foreach (var pending in batch)
                    pending.Completion.TrySetException(ex);
                continue;
            }
            BatchRan?.Invoke(batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                if (outcomes[i].Error is { } error)
                    batch[i].Completion.TrySetException(error);
                else
                    batch[i].Completion.TrySetResult(outcomes[i].Value!);
            }
        }
    }

    void Drain(ChannelReader<Pending> reader, List<Pending> batch)
    {
        while (batch.Count < _maxBatch && reader.TryRead(out var pending))
        {
            // A caller that gave up is not worth a slot in the model run.
            if (pending.Cancellation.IsCancellationRequested)
                pending.Completion.TrySetCanceled(pending.Cancellation);
            else
                batch.Add(pending);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker;
    }
}
