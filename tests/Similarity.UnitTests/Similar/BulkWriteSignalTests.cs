using Similarity.Similar;

namespace Similarity.UnitTests.Similar;

public sealed class BulkWriteSignalTests
{
    [Fact]
    public void The_signal_is_held_until_every_hold_is_released_and_a_hold_releases_once()
    {
        var signal = new BulkWriteSignal();
        Assert.False(signal.Held);

        var first = signal.Hold();
        var second = signal.Hold();
        first.Dispose();
        first.Dispose(); // a second release of the same hold must not release the other
        Assert.True(signal.Held);

        second.Dispose();
        Assert.False(signal.Held);
    }
}
