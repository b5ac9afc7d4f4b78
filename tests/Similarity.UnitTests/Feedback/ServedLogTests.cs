using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Similarity.Feedback;

namespace Similarity.UnitTests.Feedback;

/// <summary>The served log samples its share of requests and never waits: a full queue drops the list and counts it.</summary>
public sealed class ServedLogTests : IDisposable
{
    readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    ServedLog LogWith(double share) => new(new Fixed(new FeedbackOptions { ServedShare = share }),
        new FeedbackMetrics(_services.GetRequiredService<IMeterFactory>()));

    static ServedList List(int i) => new(ServedLog.NewRequestId(), DateTimeOffset.UtcNow, "similar", $"sku-{i}", null, "f", null, null, null, null, ["a"], [0.5f]);

    [Fact]
    public void A_share_of_0_records_nothing_and_of_1_everything()
    {
        var (none, all) = (LogWith(0), LogWith(1));

        Assert.DoesNotContain(Enumerable.Range(0, 1000), _ => none.Samples());
        Assert.All(Enumerable.Range(0, 1000), _ => Assert.True(all.Samples()));
    }

    [Fact]
    public void Request_ids_are_uuid_v7()
    {
        Assert.Equal(7, ServedLog.NewRequestId().Version);
    }

    [Fact]
    public void A_full_queue_drops_the_list_and_counts_it()
    {
        var log = LogWith(1);
        long dropped = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "similarity.served.dropped")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref dropped, value));
        listener.Start();

        for (var i = 0; i < ServedLog.Capacity + 3; i++)
            log.Record(List(i));

        Assert.Equal(ServedLog.Capacity, log.Reader.Count);
        Assert.Equal(3, Interlocked.Read(ref dropped));
    }

    public void Dispose() => _services.Dispose();

    sealed class Fixed(FeedbackOptions value) : IOptionsMonitor<FeedbackOptions>
    {
        public FeedbackOptions CurrentValue => value;

        public FeedbackOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<FeedbackOptions, string?> listener) => null;
    }
}
