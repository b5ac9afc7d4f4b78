using Pgvector;
using Similarity.Database;

namespace Similarity.Similar;

/// <summary>How several examples make one ranking.</summary>
public enum ExampleStrategy
{
    /// <summary>One query: the normalised weighted sum of the positives' vectors minus the negatives'.</summary>
    Average,
    /// <summary>Each candidate's best weighted score against a positive, minus its best against a negative.</summary>
    BestScore,
}

/// <summary>An example item and its weight; <see cref="Positive"/>: more like it, else less like it.</summary>
public sealed record Example(string Sku, double Weight, bool Positive);

/// <summary>The examples as stored: which exist, and whether every one is of the live model set.</summary>
public sealed record ExampleItems(IReadOnlyList<string> Missing, bool AllCurrent, IReadOnlyList<Example> Found);

public sealed partial class SimilarSearch
{
    /// <summary>
    /// "More like these, less like those": <paramref name="examples"/> ranked by <paramref name="strategy"/>, with the
    /// criteria's filters, weights and ranking; the examples themselves never appear. Null results when an example is of
    /// another model set or no positive example exists (the caller answers 409 or 404).
    /// </summary>
    public async Task<(ExampleItems Items, IReadOnlyList<SimilarResult>? Results)> SearchExamplesAsync(
        IReadOnlyList<Example> examples, ExampleStrategy strategy, SearchCriteria criteria, CancellationToken ct)
    {
        var stored = await dataSource.ReadWithRetryAsync(ct => ReadExamplesAsync(examples, ct), ct);
        var found = examples.Where(e => stored.ContainsKey(e.Sku)).ToList();
        var items = new ExampleItems([.. examples.Select(e => e.Sku).Where(sku => !stored.ContainsKey(sku))],
            stored.Values.All(v => v.Fingerprint == models.Live.Fingerprint), found);
        if (!items.AllCurrent || !found.Any(e => e.Positive))
            return (items, null);

        criteria = criteria with { Filter = criteria.Filter with { Exclude = [.. criteria.Filter.Exclude, .. examples.Select(e => e.Sku)] } };
        if (strategy == ExampleStrategy.Average)
        {
            float[]? Sum(Func<StoredExample, float[]?> vector) => WeightedSum(found.Select(e => (vector(stored[e.Sku]), e.Positive ? e.Weight : -e.Weight)));
            var fused = Sum(v => v.Fused);
            if (fused is null)
                return (items, []); // the negatives cancel the positives out: nothing is like that
            return (items, await SearchAsync(new SearchRequest(null, fused, Sum(v => v.Image) ?? Sum(v => v.Text), Sum(v => v.Text) ?? Sum(v => v.Image), criteria), ct));
        }

        // bestScore ranks by maxima and differences the index does not order by: as many candidates as a re-ranking search.
        var plan = PlanFor(new SearchRequest(null, null, null, null, criteria), exact: !index.IsValid) with { Candidates = criteria.K * options.Value.RerankCandidatesPerResult };
        var best = await dataSource.ReadWithRetryAsync(ct => RunBestScoreAsync(found, criteria, plan, ct), ct);
        if (best.Candidates.Count < criteria.K && plan.Index is not null)
            best = await dataSource.ReadWithRetryAsync(ct => RunBestScoreAsync(found, criteria, plan with { Index = null }, ct), ct);
        return (items, Choose(best, [], criteria));
    }

    sealed record StoredExample(string Fingerprint, float[] Fused, float[]? Image, float[]? Text);

    async Task<Dictionary<string, StoredExample>> ReadExamplesAsync(IReadOnlyList<Example> examples, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT sku, fingerprint, embedding, image_embedding, text_embedding FROM items WHERE sku = ANY($1)");
        command.Parameters.Add(new() { Value = examples.Select(e => e.Sku).ToArray() });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var stored = new Dictionary<string, StoredExample>(StringComparer.Ordinal);
        float[]? Vector(string column) => reader.GetOrdinal(column) is var i && reader.IsDBNull(i) ? null : reader.GetFieldValue<Vector>(i).ToArray();
        while (await reader.ReadAsync(ct))
        {
            stored[reader.GetString(reader.GetOrdinal("sku"))] = new StoredExample(reader.GetString(reader.GetOrdinal("fingerprint")),
                Vector("embedding")!, Vector("image_embedding"), Vector("text_embedding"));
        }
        return stored;
    }

    /// <summary>Σ weight × vector over the vectors there are, normalised; null when there are none or they cancel out.</summary>
    static float[]? WeightedSum(IEnumerable<(float[]? Vector, double Weight)> terms)
    {
        double[]? sum = null;
        foreach (var (vector, weight) in terms)
        {
            if (vector is null)
                continue;
            sum ??= new double[vector.Length];
            for (var i = 0; i < vector.Length; i++)
                sum[i] += weight * vector[i];
        }
        if (sum is null)
            return null;
        var norm = Math.Sqrt(sum.Sum(x => x * x));
        return norm < 1e-9 ? null : [.. sum.Select(x => (float)(x / norm))];
    }

    /// <summary>bestScore in one query: the candidates are the nearest items of each positive (the HNSW index, once per positive).</summary>
    async Task<Found> RunBestScoreAsync(IReadOnlyList<Example> examples, SearchCriteria criteria, SearchPlan plan, CancellationToken ct)
    {
        await using var batch = NewBatch(plan);
        batch.BatchCommands.Add(SimilarSql.BestScore(examples, criteria, plan).ToCommand());
        await using var reader = await batch.ExecuteReaderAsync(ct);
        if (plan.Index is not null)
            await reader.NextResultAsync(ct);
        var found = new Found([], []);
        while (await reader.ReadAsync(ct))
            found.Candidates.Add(SimilarRows.Candidate(reader, criteria));
        return found;
    }
}
