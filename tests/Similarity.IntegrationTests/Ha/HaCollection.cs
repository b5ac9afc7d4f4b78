using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Ha;

/// <summary>
/// The tests that kill nodes of the one formation: they share it and run alone, never beside other classes
/// (whose clusters and CPU they would disturb, and whose timings would disturb theirs).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HaCollection : ICollectionFixture<HaFormation>
{
    public const string Name = "Ha formation";
}
