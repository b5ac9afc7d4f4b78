using Similarity.Similar;

namespace Similarity.UnitTests.Similar;

public class SearchBreadthTests
{
    [Theory]
    [InlineData(40, "40")]
    [InlineData(1000, "1000")]
    // pgvector refuses hnsw.ef_search above 1000: a wide re-weighted page (k × candidates per result) was a 500.
    [InlineData(5000, "1000")]
    public void Breadth_is_at_most_pgvectors_bound(int breadth, string expected) =>
        Assert.Equal(expected, SearchBreadth.Command(breadth).Parameters[0].Value);
}
