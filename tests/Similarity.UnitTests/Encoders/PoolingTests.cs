using Similarity.Encoders;

namespace Similarity.UnitTests.Encoders;

public sealed class PoolingTests
{
    [Fact]
    public void Mean_pooling_ignores_masked_tokens()
    {
        // Two items, three tokens, width two. Item 1's last token is padding.
        float[] hidden = [1, 2, 3, 4, 5, 6, /* item 1 */ 10, 20, 30, 40, 999, 999];
        long[] mask = [1, 1, 1, 1, 1, 0];
        var pooled = new float[2];

        Pooling.MeanOverMask(hidden, mask, item: 1, length: 3, width: 2, pooled);
        Assert.Equal([20f, 30f], pooled);

        Pooling.MeanOverMask(hidden, mask, item: 0, length: 3, width: 2, pooled);
        Assert.Equal([3f, 4f], pooled);
    }

    [Fact]
    public void Cls_pooling_takes_the_first_token()
    {
        float[] hidden = [1, 2, 3, 4, /* item 1 */ 5, 6, 7, 8];
        var pooled = new float[2];
        Pooling.Cls(hidden, item: 1, length: 2, width: 2, pooled);
        Assert.Equal([5f, 6f], pooled);
    }

    [Fact]
    public void Global_average_pooling_averages_each_channel_map()
    {
        // One item, two channels, 2x2 maps.
        float[] map = [1, 2, 3, 4, 10, 10, 10, 50];
        var pooled = new float[2];
        Pooling.GlobalAverage(map, item: 0, channels: 2, area: 4, pooled);
        Assert.Equal([2.5f, 20f], pooled);
    }
}
