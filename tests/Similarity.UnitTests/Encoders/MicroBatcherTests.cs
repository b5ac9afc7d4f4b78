using Similarity.Encoders;

namespace Similarity.UnitTests.Encoders;

public sealed class MicroBatcherTests
{
    [Fact]
    public async Task A_lone_request_runs_alone_without_waiting_for_company()
    {
        var sizes = new List<int>();
        // A long delay: if a lone request waited for it, this test would take 10 s and the batch would still be 1.
        await using var batcher = new MicroBatcher<int, int>(Double, maxBatch: 32, maxDelay: TimeSpan.FromSeconds(10));
        batcher.BatchRan += sizes.Add;

        var started = DateTime.UtcNow;
        Assert.Equal(42, await batcher.EnqueueAsync(21));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
        Assert.Equal([1], sizes);
    }

    [Fact]
    public async Task Requests_queued_while_a_batch_runs_are_coalesced_into_the_next_one()
    {
        using var firstBatchRunning = new SemaphoreSlim(0);
        using var releaseFirstBatch = new SemaphoreSlim(0);
        var sizes = new List<int>();
        await using var batcher = new MicroBatcher<int, int>(inputs =>
        {
            if (sizes.Count == 0)
            {
                firstBatchRunning.Release();
                releaseFirstBatch.Wait();
            }
            return Double(inputs);
        }, maxBatch: 8, maxDelay: TimeSpan.Zero);
        batcher.BatchRan += sizes.Add;

        var first = batcher.EnqueueAsync(0);
        await firstBatchRunning.WaitAsync();
        var queued = Enumerable.Range(1, 20).Select(i => batcher.EnqueueAsync(i)).ToArray();
        releaseFirstBatch.Release();

        Assert.Equal(0, await first);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => 2 * i), await Task.WhenAll(queued));
        Assert.Equal([1, 8, 8, 4], sizes);
    }

    [Fact]
    public async Task One_failing_item_fails_alone()
    {
        await using var batcher = new MicroBatcher<int, int>(
            inputs => inputs.Select(i => i < 0 ? new Outcome<int>(0, new ArgumentException("negative")) : new Outcome<int>(i, null)).ToArray(),
            maxBatch: 8, maxDelay: TimeSpan.Zero);
        var good = batcher.EnqueueAsync(5);
        var bad = batcher.EnqueueAsync(-1);
        Assert.Equal(5, await good);
        await Assert.ThrowsAsync<ArgumentException>(() => bad);
    }

    static Outcome<int>[] Double(IReadOnlyList<int> inputs) => inputs.Select(i => new Outcome<int>(2 * i, null)).ToArray();
}
