using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Similarity.Catalog;
using Similarity.Database;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Similar;

/// <summary>
/// One similar item, shaped for a product page: what a storefront shows of it (title, brand, price and currency,
/// availability, its picture's URL) and how alike it is — fused, image and text cosines and, when re-weighted, the
/// weighted score; <c>hasImage</c>: whether the service keeps a picture of it (<c>GET /items/{sku}/image</c>).
/// Description and attributes only when asked for (<c>fields=</c>). <c>pinned</c>: placed by an admin's rule;
/// <c>fallback</c>: from the query item's category, filling a page that the filters left short.
/// </summary>
public sealed record SimilarResult(
    string Sku, string Title, string? Category, string? Brand, decimal? Price, string? Currency, bool Available, string? ImageUrl,
    bool HasImage, double Score, double? ImageScore, double? TextScore, double? WeightedScore,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Attributes = null,
    bool Pinned = false, bool Fallback = false);

/// <summary>One SKU's answer in a batch: its results, or why there are none (404: no such item, 409: another model set's).</summary>
public sealed record BatchEntry(string Sku, int Status, IReadOnlyList<SimilarResult> Results, string? Error);

/// <summary>
/// The catalog revision, whether the query item exists, and whether its vectors are from the live model set
/// (<see cref="Current"/>): read in one round trip.
/// </summary>
public sealed record QueryItem(long Revision, bool Exists, bool Current);

/// <summary>
/// Top-k by cosine in pgvector. The HNSW index (halfvec) yields candidates under the filters, with pgvector's
/// iterative scan so a selective filter keeps scanning instead of coming back short; candidates are re-ranked
/// by exact float32 cosine (or by the caller's image/text weights). When the index finds fewer than k, or is
/// not valid yet (being built), the same query runs as an exact scan, so k results come back whenever k
/// matching items exist. Only vectors of the live model set are compared: candidates and the query item alike.
/// Every read runs again on a broken pooled connection (a database restart; see DatabaseFaults.ReadWithRetryAsync).
/// </summary>
public sealed partial class SimilarSearch([FromKeyedServices(DatabaseExtensions.ReadsKey)] NpgsqlDataSource dataSource, CatalogIndex index, ModelSets models,
    SimilarityMetrics metrics, IOptions<SearchOptions> options)
{
    // The revision is the catalog's plus the neighbour lists': both only grow, so their sum changes with either.
    const string QueryItemSql = "SELECT revision + (SELECT revision FROM similar_lists_state), (SELECT fingerprint FROM items WHERE sku = $1) FROM catalog_state";

    public Task<QueryItem> GetQueryItemAsync(string sku, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand(QueryItemSql);
        command.Parameters.Add(new() { Value = sku });
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return ReadQueryItem(reader);
    }, ct);

    QueryItem ReadQueryItem(NpgsqlDataReader reader) =>
        new(reader.GetInt64(0), !reader.IsDBNull(1), !reader.IsDBNull(1) && reader.GetString(1) == models.Live.Fingerprint);

    public async Task<IReadOnlyList<SimilarResult>> SearchAsync(SearchRequest request, CancellationToken ct) =>
        (await SearchAsync(request, withQueryItem: false, ct)).Results;

    /// <summary>Where a page's results came from: the item's precomputed neighbour list, or a search of the index.</summary>
    public const string Precomputed = "precomputed", Live = "live";

    /// <summary>
    /// The search, and with <paramref name="withQueryItem"/> the revision and the query item's state, in one
    /// round trip: the storefront's unconditional /similar costs the database one visit. An item's page is answered
    /// from its precomputed neighbour list whenever the list can answer it (<see cref="FromList"/>: k results survive
    /// the filters), else by the live search. No results when the query item is missing or from another model set.
    /// </summary>
    public async Task<(QueryItem? Item, IReadOnlyList<SimilarResult> Results, string Source)> SearchAsync(SearchRequest request, bool withQueryItem, CancellationToken ct)
    {
        var criteria = request.Criteria;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (FromList(request))
        {
            var (listedItem, listed) = await dataSource.ReadWithRetryAsync(ct => RunAsync(request, request.K, exact: true, withQueryItem, ct, fromList: true), ct);
            if (listedItem is { Exists: false } or { Current: false })
                return (listedItem, [], Live);
            if (AboveMinScore(listed, criteria).Count >= request.K)
            {
                metrics.SimilarDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("path", Precomputed));
                return (listedItem, Choose(listed, [], criteria), Precomputed);
            }
            withQueryItem = false; // known now: the live search need not read it again
            var (_, results) = await LiveAsync(request, withQueryItem, started, ct);
            return (listedItem, results, Live);
        }
        var (item, live) = await LiveAsync(request, withQueryItem, started, ct);
        return (item, live, Live);
    }

    /// <summary>
    /// Whether the request can be answered from the item's neighbour list: an item's page ranked by the fused cosine
    /// (no re-weighting, diversity, crowding, boost or fallback), for k within the list's length.
    /// </summary>
    bool FromList(SearchRequest request) =>
        request is { QuerySku: not null, Weighted: false, CategoryOfQuery: false }
        && request.Criteria is { Fallback: false, Ranking.ReRanks: false }
        && request.K <= options.Value.ListSize;

    async Task<(QueryItem? Item, IReadOnlyList<SimilarResult> Results)> LiveAsync(SearchRequest request, bool withQueryItem, long started, CancellationToken ct)
    {
        var criteria = request.Criteria;
        var candidates = CandidatesFor(request);
        var exact = !index.IsValid;
        var (item, found) = await dataSource.ReadWithRetryAsync(ct => RunAsync(request, candidates, exact, withQueryItem, ct), ct);
        if (item is { Exists: false } or { Current: false })
            return (item, []);
        var rescan = found.Candidates.Count < request.K && !exact; // the index came back short: an exact scan finds k
        if (rescan)
            found = (await dataSource.ReadWithRetryAsync(ct => RunAsync(request, candidates, exact: true, withQueryItem: false, ct), ct)).Found;
        // fallback=category: what the filters and minScore left short is filled from the query item's category.
        IReadOnlyList<Candidate> filler = [];
        if (criteria.Fallback && request.QuerySku is not null && AboveMinScore(found, criteria).Count < request.K)
        {
            var byCategory = request with { Criteria = criteria with { MinScore = null, Filter = new SearchFilter(null, null, null, null, null, criteria.Filter.Exclude) }, CategoryOfQuery = true };
            filler = (await dataSource.ReadWithRetryAsync(ct => RunAsync(byCategory, CandidatesFor(byCategory), exact, withQueryItem: false, ct), ct)).Found.Candidates;
        }
        // approximate: the HNSW index; exact: a scan (the index not valid yet); fallback: the index, then a scan for k results.
        metrics.SimilarDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>("path", exact ? "exact" : rescan ? "fallback" : "approximate"));
        return (item, Choose(found, filler, criteria));
    }

    /// <summary>
    /// The page from what a search found: the candidates above minScore, in ranking order, or — when the criteria
    /// re-rank, a fallback filled in, or an admin pinned items — as <see cref="Ranking.Select"/> chooses.
    /// </summary>
    static IReadOnlyList<SimilarResult> Choose(Found found, IReadOnlyList<Candidate> filler, SearchCriteria criteria)
    {
        var scored = AboveMinScore(found, criteria);
        return !criteria.Ranking.ReRanks && filler.Count == 0 && found.Pins.Count == 0
            ? [.. scored.Select(c => c.Result)]
            : Ranking.Select(scored, filler, found.Pins, criteria.K, criteria.Ranking);
    }

    /// <summary>Candidates come in ranking order, so cutting at minScore keeps the best ones.</summary>
    static List<Candidate> AboveMinScore(Found found, SearchCriteria criteria) =>
        [.. found.Candidates.Where(c => criteria.MinScore is not { } min || (c.Result.WeightedScore ?? c.Result.Score) >= min)];

    /// <summary>Candidates the index yields, re-ranked exactly: a few per result, more when re-weighted or re-ranked.</summary>
    int CandidatesFor(SearchRequest request)
    {
        var o = options.Value;
        var perResult = request.Criteria.Ranking.ReRanks || request.CategoryOfQuery ? o.RerankCandidatesPerResult
            : request.Weighted ? o.WeightedCandidatesPerResult : o.CandidatesPerResult;
        return request.K * perResult;
    }

    /// <summary>What one search finds: the candidates by ranking score and, on an item's page, the results an admin pinned there.</summary>
    sealed record Found(List<Candidate> Candidates, List<Pin> Pins);

    /// <summary>
    /// One search: the candidates of the index (or, <paramref name="exact"/>, of a scan; or, <paramref name="fromList"/>,
    /// of the query item's neighbour list) under the filters, re-ranked exactly, with the pins of the item's page.
    /// </summary>
    async Task<(QueryItem? Item, Found Found)> RunAsync(SearchRequest request, int candidates, bool exact, bool withQueryItem, CancellationToken ct, bool fromList = false)
    {
        await using var batch = dataSource.CreateBatch();
        if (withQueryItem)
        {
            var state = new NpgsqlBatchCommand(QueryItemSql);
            state.Parameters.Add(new() { Value = request.QuerySku });
            batch.BatchCommands.Add(state);
        }
        var command = SearchCommand(batch, request.Criteria, candidates, exact);
        var p = command.Parameters;
        // Rows wanted: k, or every candidate when the ranking chooses among them.
        p[5].Value = request.Criteria.Ranking.ReRanks || request.CategoryOfQuery ? candidates : request.K;
        string query;
        string? page = null;
        if (request.QuerySku is { } sku)
        {
            p.Add(new() { Value = sku });                                    // $7
            page = "$7";
            // Only a query item of the live model set: another set's vectors are of another space (or dimension).
            query = "SELECT embedding AS e, image_embedding AS i, text_embedding AS t FROM items WHERE sku = $7 AND fingerprint = $1";
        }
        else
        {
            p.Add(new() { Value = new Vector(request.Fused!) });             // $7
            p.Add(CatalogStore.VectorParameter(request.Image));              // $8
            p.Add(CatalogStore.VectorParameter(request.Text));               // $9
            query = "SELECT $7::vector AS e, $8::vector AS i, $9::vector AS t";
        }
        var where = Conditions(request, p, exact, page);

        // The approximate path orders by the index's own expression against a value computed once (an InitPlan),
        // which the HNSW index can serve; the exact path by float32 distance, which no index serves.
        var order = exact ? "embedding <=> (SELECT e FROM q)" : $"{index.Expression} <=> (SELECT e FROM q)::halfvec({index.Dimension})";
        var scored = Scored(request);
        // pgvector's operators are strict: a missing modality on either side gives a NULL score. An item's page also
        // reads the items pinned on it, under the same filters, scored like the rest.
        var pins = page is null || request.CategoryOfQuery ? "" : $"""

            UNION ALL
            (SELECT {scored}, pins.position AS pin_position
             FROM ({RulesOf(page, "pin")}) pins JOIN items ON items.sku = pins.other, q
             WHERE {Conditions(request, p, exact: true, page)})
            """;
        // The list's order is its stored scores: the same fused cosines the index path re-ranks by.
        var source = fromList
            ? $"""
              SELECT * FROM (
                  SELECT items.*, n.score AS listed_score
                  FROM similar_lists s CROSS JOIN LATERAL unnest(s.neighbours, s.scores) AS n(listed, score) JOIN items ON items.sku = n.listed
                  WHERE s.sku = $7 AND s.fingerprint = $1
                    -- an item whose own vectors changed since its list was computed is searched live until the worker catches up
                    AND NOT EXISTS (SELECT 1 FROM similar_list_queue WHERE sku = $7)) listed
              WHERE {where} ORDER BY listed_score DESC, sku LIMIT $6
              """
            : $"SELECT * FROM items WHERE {where} ORDER BY {order} LIMIT $3";
        command.CommandText = $"""
            WITH q AS ({query})
            (SELECT {scored}, NULL::integer AS pin_position
             FROM ({source}) candidates, q
             ORDER BY rank DESC, sku
             LIMIT $6){pins}
            """;
        batch.BatchCommands.Add(command);

        await using var reader = await batch.ExecuteReaderAsync(ct);
        QueryItem? item = null;
        if (withQueryItem)
        {
            await reader.ReadAsync(ct);
            item = ReadQueryItem(reader);
            await reader.NextResultAsync(ct);
        }
        if (!exact)
            await reader.NextResultAsync(ct);
        var found = new Found([], []);
        var position = reader.GetOrdinal("pin_position");
        while (await reader.ReadAsync(ct))
        {
            var candidate = ReadCandidate(reader, request.Criteria);
            if (reader.IsDBNull(position))
                found.Candidates.Add(candidate);
            else
                found.Pins.Add(new Pin(candidate.Result, reader.GetInt32(position)));
        }
        // A UNION ALL promises no order: the candidates are put back in ranking order here.
        found.Candidates.Sort(ByRank);
        return (item, found);
    }

    static int ByRank(Candidate a, Candidate b) =>
        (b.Result.WeightedScore ?? b.Result.Score).CompareTo(a.Result.WeightedScore ?? a.Result.Score) is var c and not 0 ? c : string.CompareOrdinal(a.Result.Sku, b.Result.Sku);

    /// <summary>The rules of one kind on the page of the item <paramref name="page"/> (SQL): the other item of each, and its position.</summary>
    static string RulesOf(string page, string kind) => $"""
        SELECT CASE WHEN r.sku = {page} THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = '{kind}' AND (r.sku = {page} OR (r.both_ways AND r.other_sku = {page}))
        """;

    /// <summary>
    /// /similar for many SKUs with the same criteria, in one round trip (and a second only for SKUs whose index scan
    /// came back short): each SKU's search runs in a LATERAL join over the list, served by the same HNSW index. A SKU
    /// whose page has pinned items, or criteria whose ranking chooses among candidates, is answered by its own search.
    /// </summary>
    public async Task<IReadOnlyList<BatchEntry>> SearchManyAsync(IReadOnlyList<string> skus, SearchCriteria criteria, CancellationToken ct)
    {
        var exact = !index.IsValid;
        var (states, found) = await dataSource.ReadWithRetryAsync(ct => RunManyAsync(skus, criteria, exact, ct), ct);
        bool Current(string sku) => states.GetValueOrDefault(sku).Fingerprint == models.Live.Fingerprint;
        var own = skus.Where(sku => Current(sku) && (criteria.Ranking.ReRanks || criteria.Fallback || states[sku].Pinned)).Distinct().ToArray();
        var shortOnes = skus.Where(sku => Current(sku) && !own.Contains(sku) && found[sku].Count < criteria.K).Distinct().ToArray();
        if (!exact && shortOnes.Length > 0)
        {
            var (_, exactly) = await dataSource.ReadWithRetryAsync(ct => RunManyAsync(shortOnes, criteria, exact: true, ct), ct);
            foreach (var sku in shortOnes)
                found[sku] = exactly[sku];
        }
        foreach (var sku in found.Keys.Except(own).ToArray())
            found[sku] = [.. found[sku].Where(r => criteria.MinScore is not { } min || (r.WeightedScore ?? r.Score) >= min)];
        foreach (var sku in own)
            found[sku] = [.. await SearchAsync(SearchRequest.ForItem(sku, criteria), ct)];
        return [.. skus.Select(sku => states.GetValueOrDefault(sku).Fingerprint is not { } fingerprint
            ? new BatchEntry(sku, StatusCodes.Status404NotFound, [], $"There is no item with SKU '{sku}'.")
            : fingerprint != models.Live.Fingerprint
                ? new BatchEntry(sku, StatusCodes.Status409Conflict, [], $"Item '{sku}' has vectors from a model set other than the live one; re-embed it.")
                : new BatchEntry(sku, StatusCodes.Status200OK, found[sku], null))];
    }

    /// <summary>A batch SKU's item: its model set's fingerprint (null: no such item), and whether its page has pinned items.</summary>
    readonly record struct BatchItem(string? Fingerprint, bool Pinned);

    async Task<(Dictionary<string, BatchItem> States, Dictionary<string, List<SimilarResult>> Results)> RunManyAsync(
        IReadOnlyList<string> skus, SearchCriteria criteria, bool exact, CancellationToken ct)
    {
        var request = new SearchRequest(null, null, null, null, criteria);
        var candidates = CandidatesFor(request);
        await using var batch = dataSource.CreateBatch();
        var states = new NpgsqlBatchCommand($"""
            SELECT u.sku, i.fingerprint, EXISTS ({RulesOf("u.sku", "pin")}) AS pinned
            FROM unnest($1::text[]) u(sku) LEFT JOIN items i USING (sku)
            """);
        states.Parameters.Add(new() { Value = skus.ToArray() });
        batch.BatchCommands.Add(states);
        var command = SearchCommand(batch, criteria, candidates, exact);
        var p = command.Parameters;
        p.Add(new() { Value = skus.ToArray() });                             // $7
        var where = Conditions(request, p, exact, page: "q.query_sku");
        var order = exact ? "embedding <=> q.e" : $"{index.Expression} <=> q.e::halfvec({index.Dimension})";
        command.CommandText = $"""
            WITH q AS (
                SELECT DISTINCT ON (i.sku) u.ord, i.sku AS query_sku, i.embedding AS e, i.image_embedding AS i, i.text_embedding AS t
                FROM unnest($7::text[]) WITH ORDINALITY u(sku, ord) JOIN items i ON i.sku = u.sku AND i.fingerprint = $1
                ORDER BY i.sku, u.ord)
            SELECT q.query_sku, r.* FROM q CROSS JOIN LATERAL (
                SELECT {Scored(request)}
                FROM (SELECT * FROM items WHERE {where} AND sku <> q.query_sku ORDER BY {order} LIMIT $3) candidates
                ORDER BY rank DESC, sku
                LIMIT $6) r
            ORDER BY q.ord, r.rank DESC, r.sku
            """;
        batch.BatchCommands.Add(command);

        await using var reader = await batch.ExecuteReaderAsync(ct);
        var found = new Dictionary<string, BatchItem>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
            found[reader.GetString(0)] = new BatchItem(reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetBoolean(2));
        await reader.NextResultAsync(ct);
        if (!exact)
            await reader.NextResultAsync(ct);
        var results = skus.Distinct().ToDictionary(sku => sku, _ => new List<SimilarResult>(), StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
            results[reader.GetString(0)].Add(ReadResult(reader, criteria));
        return (found, results);
    }

    /// <summary>
    /// The filters as SQL over <c>items</c>, their values added to <paramref name="p"/>: the live model set, not excluded,
    /// inside the index's reach on the approximate path, and the caller's filters. On the page of the item
    /// <paramref name="page"/> (SQL), not blocked there by an admin's rule, and with <c>CategoryOfQuery</c>, only of its category.
    /// </summary>
    string Conditions(SearchRequest request, NpgsqlParameterCollection p, bool exact, string? page)
    {
        var where = new StringBuilder("fingerprint = $1 AND sku <> ALL($2)");
        if (!exact)
            where.Append(" AND ").Append(index.Predicate);
        if (page is not null)
            where.Append($" AND sku NOT IN (SELECT other FROM ({RulesOf(page, "block")}) blocked)");
        if (page is not null && request.CategoryOfQuery)
            where.Append($" AND lower(category) = lower((SELECT category FROM items WHERE sku = {page}))");
        void Filter(string condition, object value)
        {
            p.Add(new() { Value = value });
            where.Append(" AND ").Append(condition.Replace("?", "$" + p.Count, StringComparison.Ordinal));
        }
        // Case-insensitive, as a shop means them ("Mugs" is "mugs"); the indexes are on lower(…) to match.
        if (request.Filter.Category is { } category) Filter("lower(category) = lower(?)", category);
        if (request.Filter.Brand is { } brand) Filter("lower(brand) = lower(?)", brand);
        if (request.Filter.PriceMin is { } priceMin) Filter("price >= ?", priceMin);
        if (request.Filter.PriceMax is { } priceMax) Filter("price <= ?", priceMax);
        if (request.Filter.Available is { } available) Filter("available = ?", available);
        return where.ToString();
    }

    /// <summary>
    /// Adds to <paramref name="batch"/> the index's search breadth (unless it scans exactly) and returns the search
    /// command with the parameters every search shares: $1 fingerprint, $2 excluded SKUs, $3 candidates, $4 and $5
    /// the modality weights, $6 k. The caller adds its own from $7 on, its text, and the command to the batch.
    /// </summary>
    NpgsqlBatchCommand SearchCommand(NpgsqlBatch batch, SearchCriteria criteria, int candidates, bool exact)
    {
        if (!exact)
        {
            // The search breadth is never below the candidates wanted (and so never below k). The settings are
            // local to the batch's implicit transaction, so the connection goes back to the pool as it came.
            var settings = new NpgsqlBatchCommand("SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)");
            settings.Parameters.Add(new() { Value = Math.Max(options.Value.EfSearch, candidates).ToString(System.Globalization.CultureInfo.InvariantCulture) });
            batch.BatchCommands.Add(settings);
        }
        var command = new NpgsqlBatchCommand();
        var p = command.Parameters;
        p.Add(new() { Value = models.Live.Fingerprint });                       // $1
        p.Add(new() { Value = criteria.Filter.Exclude, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text }); // $2
        p.Add(new() { Value = candidates });                                 // $3
        p.Add(new() { Value = criteria.ImageWeight ?? 0d });                 // $4
        p.Add(new() { Value = criteria.TextWeight ?? 0d });                  // $5
        p.Add(new() { Value = criteria.K });                                 // $6
        return command;
    }

    /// <summary>The columns of a result over <c>candidates</c> and <c>q</c> (e, i, t), ending in its ranking score <c>rank</c>.</summary>
    static string Scored(SearchRequest request)
    {
        var extra = OptionalColumns(request.Criteria);
        var rank = request.Weighted
            ? "$4 * coalesce(1 - (image_embedding <=> q.i), 0) + $5 * coalesce(1 - (text_embedding <=> q.t), 0)"
            : "1 - (embedding <=> q.e)";
        return $"""
            sku, title, category, brand, price, currency, available, image_url, image_sha256 IS NOT NULL AS has_image{extra},
            1 - (embedding <=> q.e) AS score, 1 - (image_embedding <=> q.i) AS image_score, 1 - (text_embedding <=> q.t) AS text_score,
            {rank} AS rank
            """;
    }

    /// <summary>The columns only some requests read (<c>fields=</c>, and the vectors diversity compares), of <paramref name="table"/>.</summary>
    static string OptionalColumns(SearchCriteria criteria, string table = "") =>
        (criteria.Fields.HasFlag(ResultFields.Description) ? $", {table}description" : "")
        + (criteria.Fields.HasFlag(ResultFields.Attributes) ? $", {table}attributes::text AS attributes" : "")
        + (criteria.Ranking.NeedsVectors ? $", {table}embedding AS vector" : "");

    static Candidate ReadCandidate(NpgsqlDataReader reader, SearchCriteria criteria) =>
        new(ReadResult(reader, criteria), criteria.Ranking.NeedsVectors ? reader.GetFieldValue<Vector>(reader.GetOrdinal("vector")).ToArray() : null);

    static SimilarResult ReadResult(NpgsqlDataReader reader, SearchCriteria criteria)
    {
        string? Text(string column) => reader.GetOrdinal(column) is var i && reader.IsDBNull(i) ? null : reader.GetString(i);
        double? Number(string column) => reader.GetOrdinal(column) is var i && reader.IsDBNull(i) ? null : reader.GetDouble(i);
        var price = reader.GetOrdinal("price");
        return new SimilarResult(
            reader.GetString(reader.GetOrdinal("sku")), reader.GetString(reader.GetOrdinal("title")), Text("category"), Text("brand"),
            reader.IsDBNull(price) ? null : reader.GetDecimal(price), Text("currency"), reader.GetBoolean(reader.GetOrdinal("available")),
            Text("image_url"), reader.GetBoolean(reader.GetOrdinal("has_image")), reader.GetDouble(reader.GetOrdinal("score")), Number("image_score"), Number("text_score"),
            criteria.ImageWeight is null ? null : reader.GetDouble(reader.GetOrdinal("rank")),
            criteria.Fields.HasFlag(ResultFields.Description) ? Text("description") : null,
            criteria.Fields.HasFlag(ResultFields.Attributes) ? JsonElement.Parse(reader.GetString(reader.GetOrdinal("attributes"))) : null);
    }
}
