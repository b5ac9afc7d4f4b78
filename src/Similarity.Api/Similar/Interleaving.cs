using Similarity.Feedback;

namespace Similarity.Similar;

/// <summary>An answer interleaved for an experiment: its results, and the team (A control, B treatment) of each position.</summary>
public sealed record InterleavedAnswer(string Experiment, string Teams, IReadOnlyList<SimilarResult> Results)
{
    /// <summary>The served log's <c>arm</c> of every interleaved answer.</summary>
    public const string Arm = "interleaved";
}

/// <summary>
/// The experiments' part of <c>GET /similar/{sku}</c>: when a running experiment takes this answer
/// (<see cref="RunningExperiments"/>), both sides rank the item — each the request's criteria with the side's parameters
/// over them — and team-draft interleaving (<see cref="TeamDraft"/>, seeded by the request id) makes the page.
/// An answer no experiment takes costs nothing but a look at the remembered experiments.
/// </summary>
public sealed class Interleaving(RunningExperiments experiments, SimilarSearch search)
{
    public async Task<InterleavedAnswer?> TryAsync(SearchRequest request, Guid requestId, string? visitorId, CancellationToken ct)
    {
        if (request.QuerySku is null || await experiments.ChooseAsync(visitorId ?? requestId.ToString(), ct) is not { } experiment)
            return null;
        var control = await search.SearchAsync(request with { Criteria = Over(request.Criteria, experiment.Control) }, ct);
        var treatment = await search.SearchAsync(request with { Criteria = Over(request.Criteria, experiment.Treatment) }, ct);
        var mixed = TeamDraft.Interleave(control, treatment, request.K, RunningExperiments.SeedOf(requestId), BySku.Instance);
        return new InterleavedAnswer(experiment.Name, mixed.Teams, mixed.Items);
    }

    /// <summary>
    /// The request's criteria with a side's parameters over them: a side that sets either weight sets both (the other
    /// 0), as the query string does; its diversity and blend replace the request's.
    /// </summary>
    public static SearchCriteria Over(SearchCriteria criteria, ExperimentSide side)
    {
        var weighted = side.ImageWeight is not null || side.TextWeight is not null;
        var ranking = criteria.Ranking with { Diversity = side.Diversity ?? criteria.Ranking.Diversity };
        return criteria with
        {
            ImageWeight = weighted ? side.ImageWeight ?? 0 : criteria.ImageWeight,
            TextWeight = weighted ? side.TextWeight ?? 0 : criteria.TextWeight,
            RankingChoice = ranking.ReRanks ? ranking : null,
            Blend = side.Blend ?? criteria.Blend,
        };
    }

    /// <summary>Two sides' results are the same item when their SKUs are.</summary>
    sealed class BySku : IEqualityComparer<SimilarResult>
    {
        public static readonly BySku Instance = new();
        public bool Equals(SimilarResult? x, SimilarResult? y) => string.Equals(x?.Sku, y?.Sku, StringComparison.Ordinal);
        public int GetHashCode(SimilarResult obj) => StringComparer.Ordinal.GetHashCode(obj.Sku);
    }
}
