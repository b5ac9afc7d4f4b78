using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Database;
using Similarity.Models;

namespace Similarity.Similar;

/// <summary>
/// Hybrid and lexical search for /search and /similar/{sku}: the vector list (<see cref="SimilarSearch"/>, with its
/// filters, rules and fallback) and the lexical list (the tsvector index under the same filters) fused by
/// <see cref="HybridFusion"/>, then chosen from as every page is (<see cref="Ranking.Select"/>: diversity, crowding,
/// boost, pins). Only items of the live model set are searched. docs/architecture.md ("Hybrid lexical + vector retrieval") tells how each route's fusion was chosen.
/// </summary>
public sealed class HybridSearch([FromKeyedServices(DatabaseExtensions.ReadsKey)] NpgsqlDataSource dataSource, SimilarSearch search,
    ModelSets models, IOptions<SearchOptions> options)
{
    /// <summary>The catalog revision and, for a <paramref name="text"/>, its words with their typo corrections, in one round trip.</summary>
    public Task<(long Revision, LexicalQuery Query)> ReadWordsAsync(string? text, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(LexicalSql.Revision().ToCommand());
        if (text is not null)
        {
            batch.BatchCommands.Add(LexicalSql.Threshold().ToCommand());
            batch.BatchCommands.Add(LexicalSql.Words(text, options.Value.OneTypoLength, options.Value.TwoTyposLength).ToCommand());
        }
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var revision = reader.GetInt64(reader.GetOrdinal("revision"));
        var words = new List<LexicalWord>();
        if (text is not null)
        {
            await reader.NextResultAsync(ct);
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
                words.Add(LexicalRows.Word(reader));
        }
        return (revision, LexicalQuery.From(words));
    }, ct);

    /// <summary>How many candidates each list brings: a few per result, at least 50, at most 100 (a neighbour list's length).</summary>
    int PoolFor(int k) => Math.Clamp(k * options.Value.HybridCandidatesPerResult, 50, 100);

    /// <summary>
    /// The page for <paramref name="request"/> by <paramref name="choice"/> (hybrid or lexical): with a text's
    /// <paramref name="query"/>, or for an item's page (query null) by the item's whole text; fused as the route's settings say.
    /// With <paramref name="withQueryItem"/> also the query item's state; no results when it is missing or of another set.
    /// </summary>
    public async Task<(QueryItem? Item, IReadOnlyList<SimilarResult> Results, string Source)> SearchAsync(SearchRequest request, LexicalQuery? query,
        HybridChoice choice, bool withQueryItem, CancellationToken ct)
    {
        // Words and vectors fuse by rank; co-engagement is not one of the lists fused (yet), so these modes do not blend.
        var criteria = request.Criteria with { Blend = 0 };
        request = request with { Criteria = criteria };
        var source = choice.Mode == RetrievalMode.Lexical ? ResultSource.Lexical : ResultSource.Hybrid;
        var pool = PoolFor(request.K);
        // The vector list as /similar would page it, longer and unranked: its order, and the pins and fallback it placed.
        var vectorRequest = request with { Criteria = criteria with { K = pool, MinScore = null, RankingChoice = null } };
        var (item, listed, _) = await search.SearchAsync(vectorRequest, withQueryItem, ct);
        if (item is { State: not QueryItemState.Current })
            return (item, [], source);
        var pins = listed.Select((r, i) => (r, i)).Where(p => p.r.Pinned).Select(p => new Pin(p.r with { Pinned = false }, p.i + 1)).ToList();
        var filler = listed.Where(r => r.Fallback).Select(r => new Candidate(r with { Fallback = false }, null)).ToList();
        var vectorOrder = listed.Where(r => !r.Pinned && !r.Fallback).Select(r => r.Sku).ToList();

        var statement = LexicalSql.Search(request, query, models.Live.Fingerprint, pool, vectorOrder, lexicalOnly: choice.Mode == RetrievalMode.Lexical);
        var (rows, lexicalOrder) = await dataSource.ReadWithRetryAsync(ct => ReadAsync(statement, criteria, ct), ct);
        var method = (request.QuerySku is null ? options.Value.TextFusion : options.Value.ItemFusion) == "convex" ? FusionMethod.Convex : FusionMethod.Rrf;
        var fused = HybridFusion.Fuse(vectorOrder, lexicalOrder, rows, choice, method)
            .Where(c => criteria.MinScore is not { } min || (c.Result.WeightedScore ?? c.Result.Score) >= min).ToList();
        return (item, Ranking.Select(fused, filler, pins, request.K, criteria.Ranking), source);
    }

    /// <summary>Every candidate of either list by SKU, and the lexical list in its order (by lexical score, then SKU).</summary>
    async Task<(Dictionary<string, Candidate> Rows, List<string> LexicalOrder)> ReadAsync(SqlStatement statement, SearchCriteria criteria, CancellationToken ct)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(statement.ToCommand());
        await using var reader = await batch.ExecuteReaderAsync(ct);
        var rows = new Dictionary<string, Candidate>(StringComparer.Ordinal);
        var lexical = new List<Candidate>();
        while (await reader.ReadAsync(ct))
        {
            var (candidate, inLexicalList) = LexicalRows.SearchRow(reader, criteria);
            rows[candidate.Result.Sku] = candidate;
            if (inLexicalList)
                lexical.Add(candidate);
        }
        lexical.Sort((a, b) => b.Result.LexicalScore!.Value.CompareTo(a.Result.LexicalScore!.Value) is var c and not 0 ? c : string.CompareOrdinal(a.Result.Sku, b.Result.Sku));
        return (rows, [.. lexical.Select(c => c.Result.Sku)]);
    }
}
