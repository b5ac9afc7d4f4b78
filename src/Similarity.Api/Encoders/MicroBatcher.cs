using System.Threading.Channels;
using Similarity.Hosting;

namespace Similarity.Encoders;

/// <summary>The result of one item in a batch: its value, or why that item alone failed.</summary>
public readonly record struct Outcome<T>(T? Value, Exception? Error);

/// <summary>
/// Coalesces concurrent requests into one model run. A single worker drains whatever is queued (up to the batch
/// size) and runs it at once; only when a batch already holds two or more items does it wait up to the delay
/// for more. A lone request therefore never waits, and under load batches fill up by themselves.
/// The queue is bounded: when it is full a request is refused at once (503) instead of waiting without end.
/// The worker is supervised: whatever goes wrong with one batch fails that batch's callers and the next batch
/// runs; if the loop itself cannot go on, every waiting caller is failed, later ones are refused, and
/// <see cref="Fault"/> says why (the models' health check reads it).
/// </summary>
public sealed class MicroBatcher<TIn, TOut> : IAsyncDisposable
{
    readonly Channel<Pending> _queue;
    readonly Func<IReadOnlyList<TIn>, Outcome<TOut>[]> _run;
    readonly string _name;
    readonly int _maxBatch;
    readonly TimeSpan _maxDelay;
    readonly ILogger _logger;
    readonly Task _worker;
    volatile Exception? _fault;
    volatile bool _disposed;

    sealed record Pending(TIn Input, TaskCompletionSource<TOut> Completion, CancellationToken Cancellation);

    /// <param name="name">What the batcher encodes (<c>image</c>, <c>text</c>): named in logs, errors and health.</param>
    /// <param name="run">One model run over a batch; an item that fails alone says so in its <see cref="Outcome{T}"/>.</param>
    /// <param name="maxBatch">Most items one run takes.</param>
    /// <param name="maxDelay">How long a batch of two or more waits for more.</param>
    /// <param name="maxQueued">Most items waiting for a run; beyond it a request is refused.</param>
    /// <param name="logger">Where a failed batch or a stopped loop is told.</param>
    public MicroBatcher(string name, Func<IReadOnlyList<TIn>, Outcome<TOut>[]> run, int maxBatch, TimeSpan maxDelay, int maxQueued, ILogger logger)
    {
        _name = name;
        _run = run;
        _maxBatch = maxBatch;
        _maxDelay = maxDelay;
        _logger = logger;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(maxQueued) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _worker = Task.Run(WorkAsync);
    }

    /// <summary>Sizes of the batches run so far, for tests.</summary>
    public event Action<int>? BatchRan;

    /// <summary>Why the loop stopped for good, or null while it runs.</summary>
    public Exception? Fault => _fault;

    /// <summary>Items waiting for a model run.</summary>
    public int Queued => _queue.Reader.Count;

    /// <exception cref="ServiceBusyException">The queue is full, or the loop has stopped.</exception>
    /// <exception cref="ObjectDisposedException">The batcher was disposed (the host is stopping).</exception>
    public Task<TOut> EnqueueAsync(TIn input, CancellationToken cancellationToken = default)
    {
        var completion = new TaskCompletionSource<TOut>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Pending(input, completion, cancellationToken)))
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            throw _fault is null ? QueueFull() : Stopped();
        }
        return completion.Task.WaitAsync(cancellationToken);
    }

    ServiceBusyException QueueFull() => new(
        $"The {_name} encoder's queue is full.",
        $"{_queue.Reader.Count} {_name} items are waiting for the model (Similarity:Inference:MaxQueuedItems); try again shortly.",
        TimeSpan.FromSeconds(1));

    ServiceBusyException Stopped() => new(
        $"The {_name} encoder has stopped.",
        $"The {_name} encoder's batching loop stopped after an unexpected error; /health/ready reports it and the log has the details.",
        retryAfter: null);

    async Task WorkAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(_maxBatch);
        try
        {
            while (await reader.WaitToReadAsync())
            {
                batch.Clear();
                try
                {
                    await GatherAsync(reader, batch);
                    if (batch.Count > 0)
                        Run(batch);
                }
                catch (Exception ex)
                {
                    // Whatever failed — the model run, an observer of BatchRan, the bookkeeping — fails this
                    // batch's callers (those not answered yet) and the loop goes on with the next batch.
                    foreach (var pending in batch)
                        pending.Completion.TrySetException(ex);
                    MicroBatcherLog.BatchFailed(_logger, _name, batch.Count, ex);
                }
            }
        }
        catch (Exception ex)
        {
            // The loop itself cannot go on (even telling of a failed batch failed): nobody may wait forever.
            _fault = ex;
            _queue.Writer.TryComplete();
            var stopped = Stopped();
            foreach (var pending in batch)
                pending.Completion.TrySetException(stopped);
            while (reader.TryRead(out var left))
                left.Completion.TrySetException(stopped);
            MicroBatcherLog.Stopped(_logger, _name, ex);
        }
    }

    async Task GatherAsync(ChannelReader<Pending> reader, List<Pending> batch)
    {
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
    }

    void Run(List<Pending> batch)
    {
        var inputs = new TIn[batch.Count];
        for (var i = 0; i < batch.Count; i++)
            inputs[i] = batch[i].Input;
        var outcomes = _run(inputs);
        if (outcomes.Length != batch.Count)
            throw new InvalidOperationException($"The {_name} model run returned {outcomes.Length} outcomes for {batch.Count} inputs.");
        BatchRan?.Invoke(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i].Error is { } error)
                batch[i].Completion.TrySetException(error);
            else
                batch[i].Completion.TrySetResult(outcomes[i].Value!);
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

    /// <summary>Stops taking requests, runs those already queued, then returns.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        _queue.Writer.TryComplete();
        try
        {
            await _worker;
        }
        catch (Exception) when (_fault is not null)
        {
            // Already told where operators look (the log, /health/ready); stopping must not fail on it again.
        }
    }
}

static partial class MicroBatcherLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "A batch of {Count} {Encoder} items failed; its callers get the error and the next batch runs")]
    internal static partial void BatchFailed(ILogger logger, string encoder, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The {Encoder} encoder's batching loop stopped; its requests are refused until the service restarts")]
    internal static partial void Stopped(ILogger logger, string encoder, Exception exception);
}
