using Microsoft.Extensions.Logging;
using Similarity.Encoders;
using Similarity.Hosting;
using Similarity.UnitTests.Infrastructure;

namespace Similarity.UnitTests.Encoders;

public sealed class MicroBatcherTests
{
    /// <summary>Far longer than any of these tests may take: reaching it means the batcher is stuck.</summary>
    static readonly TimeSpan Stuck = TimeSpan.FromMinutes(1);

    static MicroBatcher<int, int> Create(Func<IReadOnlyList<int>, Outcome<int>[]> run, int maxBatch = 8, TimeSpan maxDelay = default,
        int maxQueued = 256, ILogger? logger = null) =>
        new("test", run, maxBatch, maxDelay, maxQueued, logger ?? new ListLogger());

    [Fact]
    public async Task A_lone_request_runs_alone_without_waiting_for_company()
    {
        var sizes = new List<int>();
        // An hour's delay: a lone request that waited for company would hit the Stuck timeout instead.
        await using var batcher = Create(Double, maxBatch: 32, maxDelay: TimeSpan.FromHours(1));
        batcher.BatchRan += sizes.Add;

        Assert.Equal(42, await batcher.EnqueueAsync(21).WaitAsync(Stuck));
        Assert.Equal([1], sizes);
    }

    [Fact]
    public async Task Requests_queued_while_a_batch_runs_are_coalesced_into_the_next_one()
    {
        using var gate = new FirstBatchGate();
        var sizes = new List<int>();
        await using var batcher = Create(gate.Wrap(Double), maxBatch: 8);
        batcher.BatchRan += sizes.Add;

        var first = batcher.EnqueueAsync(0);
        await gate.Running.WaitAsync(Stuck);
        var queued = Enumerable.Range(1, 20).Select(i => batcher.EnqueueAsync(i)).ToArray();
        gate.Release();

        Assert.Equal(0, await first);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => 2 * i), await Task.WhenAll(queued));
        Assert.Equal([1, 8, 8, 4], sizes);
    }

    [Fact]
    public async Task One_failing_item_fails_alone()
    {
        using var gate = new FirstBatchGate();
        var batches = new List<int[]>();
        await using var batcher = Create(gate.Wrap(inputs =>
        {
            batches.Add([.. inputs]);
            return [.. inputs.Select(i => i < 0 ? new Outcome<int>(0, new ArgumentException("negative")) : new Outcome<int>(i, null))];
        }));
        // Both wait behind a first batch, so they run together: the failure must stay with its own item.
        var first = batcher.EnqueueAsync(1);
        await gate.Running.WaitAsync(Stuck);
        var good = batcher.EnqueueAsync(5);
        var bad = batcher.EnqueueAsync(-1);
        gate.Release();

        Assert.Equal(1, await first);
        Assert.Equal(5, await good);
        await Assert.ThrowsAsync<ArgumentException>(() => bad);
        Assert.Equal([[1], [5, -1]], batches);
    }

    [Fact]
    public async Task A_full_queue_refuses_at_once_and_takes_requests_again_once_it_drains()
    {
        using var gate = new FirstBatchGate();
        await using var batcher = Create(gate.Wrap(Double), maxBatch: 4, maxQueued: 4);

        var running = batcher.EnqueueAsync(0);
        await gate.Running.WaitAsync(Stuck);
        var queued = Enumerable.Range(1, 4).Select(i => batcher.EnqueueAsync(i)).ToArray();
        Assert.Equal(4, batcher.Queued);

        var refused = Assert.Throws<ServiceBusyException>(() => { _ = batcher.EnqueueAsync(5); });
        Assert.Contains("MaxQueuedItems", refused.Message, StringComparison.Ordinal);
        Assert.NotNull(refused.RetryAfter);

        gate.Release();
        Assert.Equal(new[] { 0, 2, 4, 6, 8 }, await Task.WhenAll(queued.Prepend(running)));
        Assert.Equal(10, await batcher.EnqueueAsync(5).WaitAsync(Stuck));
    }

    [Fact]
    public async Task An_exception_after_the_run_fails_that_batch_is_logged_and_the_next_batch_runs()
    {
        var logger = new ListLogger();
        await using var batcher = Create(Double, logger: logger);
        var observed = 0;
        batcher.BatchRan += _ =>
        {
            if (Interlocked.Increment(ref observed) == 1)
                throw new InvalidOperationException("an observer failed");
        };

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.EnqueueAsync(1).WaitAsync(Stuck));
        Assert.Equal("an observer failed", failed.Message);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("test items failed", StringComparison.Ordinal));

        Assert.Equal(4, await batcher.EnqueueAsync(2).WaitAsync(Stuck));
        Assert.Null(batcher.Fault);
    }

    [Fact]
    public async Task A_loop_that_cannot_go_on_fails_every_waiting_caller_refuses_new_ones_and_says_why()
    {
        // Telling of a failed batch fails too (a broken log sink): the loop cannot go on.
        using var gate = new FirstBatchGate();
        await using var batcher = Create(gate.Wrap(Double), logger: new ListLogger(throws: true));
        batcher.BatchRan += _ => throw new InvalidOperationException("an observer failed");

        var running = batcher.EnqueueAsync(0);
        await gate.Running.WaitAsync(Stuck);
        var queued = Enumerable.Range(1, 3).Select(i => batcher.EnqueueAsync(i)).ToArray();
        gate.Release();

        await Assert.ThrowsAsync<InvalidOperationException>(() => running.WaitAsync(Stuck));
        foreach (var waiting in queued)
            await Assert.ThrowsAsync<ServiceBusyException>(() => waiting.WaitAsync(Stuck));
        Assert.IsType<IOException>(batcher.Fault);
        var refused = Assert.Throws<ServiceBusyException>(() => { _ = batcher.EnqueueAsync(4); });
        Assert.Contains("stopped", refused.Title, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposing_runs_what_is_queued_then_refuses()
    {
        using var gate = new FirstBatchGate();
        var batcher = Create(gate.Wrap(Double));
        var running = batcher.EnqueueAsync(1);
        await gate.Running.WaitAsync(Stuck);
        var queued = batcher.EnqueueAsync(2);

        var disposing = batcher.DisposeAsync();
        gate.Release();
        await disposing;

        Assert.Equal(new[] { 2, 4 }, await Task.WhenAll(running, queued));
        Assert.Throws<ObjectDisposedException>(() => { _ = batcher.EnqueueAsync(3); });
    }

    static Outcome<int>[] Double(IReadOnlyList<int> inputs) => [.. inputs.Select(i => new Outcome<int>(2 * i, null))];

    /// <summary>Holds the first batch inside its model run until released, so a test can queue behind it.</summary>
    sealed class FirstBatchGate : IDisposable
    {
        readonly SemaphoreSlim _release = new(0);
        int _runs;

        public SemaphoreSlim Running { get; } = new(0);

        public Func<IReadOnlyList<int>, Outcome<int>[]> Wrap(Func<IReadOnlyList<int>, Outcome<int>[]> run) => inputs =>
        {
            if (Interlocked.Increment(ref _runs) == 1)
            {
                Running.Release();
                _release.Wait(Stuck); // bounded, so a failing test ends instead of hanging its batcher's disposal
            }
            return run(inputs);
        };

        public void Release() => _release.Release();

        public void Dispose()
        {
            Running.Dispose();
            _release.Dispose();
        }
    }
}
