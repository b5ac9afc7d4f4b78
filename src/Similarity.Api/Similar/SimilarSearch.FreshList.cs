namespace Similarity.Similar;

public sealed partial class SimilarSearch
{
    /// <summary>
    /// What the merged neighbour list found (<see cref="FreshListSql"/>): the candidates and pins, and how many merged
    /// candidates are sure to rank above any item outside the list and the queue. It answers a page of k when k are.
    /// </summary>
    sealed record Merged(Found Found, long Sure)
    {
        public bool Answers(int k) => Sure >= k;
    }

    /// <summary>
    /// The precomputed answer in one round trip: with <paramref name="withQueryItem"/> the revision and the query
    /// item's state, and the stored list merged with the changes not folded into it yet.
    /// </summary>
    async Task<(QueryItem? Item, Merged Merged)> RunFreshListAsync(SearchRequest request, bool withQueryItem, CancellationToken ct)
    {
        await using var batch = dataSource.CreateBatch();
        if (withQueryItem)
            batch.BatchCommands.Add(SimilarSql.QueryItem(request.QuerySku!).ToCommand());
        batch.BatchCommands.Add(FreshListSql.Search(request, models.Live.Fingerprint, options.Value.RecentChangesLimit).ToCommand());

        await using var reader = await batch.ExecuteReaderAsync(ct);
        QueryItem? item = null;
        if (withQueryItem)
        {
            await reader.ReadAsync(ct);
            item = SimilarRows.QueryItem(reader, models.Live.Fingerprint);
            await reader.NextResultAsync(ct);
        }
        var found = new Found([], []);
        long sure = 0;
        while (await reader.ReadAsync(ct))
        {
            var (candidate, pinPosition) = SimilarRows.SearchRow(reader, request.Criteria);
            if (pinPosition is { } position)
            {
                found.Pins.Add(new Pin(candidate.Result, position));
                continue;
            }
            found.Candidates.Add(candidate);
            sure = reader.GetInt64(reader.GetOrdinal("sure"));
        }
        found.Candidates.Sort(ByRank);
        return (item, new Merged(found, sure));
    }
}
