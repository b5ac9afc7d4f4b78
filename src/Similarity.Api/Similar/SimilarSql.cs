using System.Text;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace Similarity.Similar;

/// <summary>The live set's HNSW index as the SQL names it: the expression it orders by, the rows it covers, its dimension.</summary>
public sealed record IndexShape(string Expression, string Predicate, int Dimension);

/// <summary>
/// How one statement searches: the live set's <paramref name="Fingerprint"/>; through <paramref name="Index"/>, or, when
/// null, by an exact scan; the <paramref name="Candidates"/> fetched and the <paramref name="Rows"/> returned; an index
/// search looks <paramref name="Breadth"/> far (<c>hnsw.ef_search</c>; 0: as the connection is set). (A page answered
/// from its neighbour list is <see cref="FreshListSql"/>'s statement.)
/// </summary>
public sealed record SearchPlan(string Fingerprint, IndexShape? Index, int Candidates, int Rows, int Breadth = 0);

/// <summary>A statement and its named parameters.</summary>
public sealed record SqlStatement(string Text, IReadOnlyList<NpgsqlParameter> Parameters)
{
    public NpgsqlBatchCommand ToCommand()
    {
        var command = new NpgsqlBatchCommand(Text);
        foreach (var parameter in Parameters)
            command.Parameters.Add(parameter.Clone());
        return command;
    }
}

/// <summary>
/// The SQL of every /similar search, each query built here and only here, with named parameters. Pure: it reads no
/// database, so unit tests hold its text to what they expect.
/// </summary>
public static class SimilarSql
{
    /// <summary>
    /// The catalog revision (the catalog's plus the neighbour lists': both only grow; plus the time of the last rebuild
    /// that learned co-engagement, which blended answers depend on) and the query item's model set.
    /// </summary>
    public static SqlStatement QueryItem(string sku)
    {
        var p = new Parameters();
        return p.Statement(QueryItemRow(p, p.Add("sku", sku)));
    }

    /// <summary>The row of <see cref="QueryItem(string)"/> for the item <paramref name="sku"/> (SQL).</summary>
    static string QueryItemRow(Parameters p, string sku) => $"""
        SELECT revision + (SELECT revision FROM similar_lists_state) + {BlendSql.Generation} AS revision,
               (SELECT fingerprint FROM items WHERE sku = {sku}) AS fingerprint
        FROM catalog_state
        """;

    /// <summary>
    /// One search: the candidates of the index (or of a scan, or of the query item's neighbour list) under the filters,
    /// re-ranked exactly, with — on an item's page — the items pinned there (<c>pin_position</c> not null). Each
    /// candidate's fused cosine is computed once, and the image and text cosines only for the rows returned: a vector is
    /// read out of TOAST per use. An index search sets its breadth in the same statement, on the query's row, which the
    /// index scan must read before it starts. With <paramref name="withQueryItem"/>, every row also carries the revision
    /// and the query item's model set (<see cref="QueryItem(string)"/>), and a page with no results one row without a <c>sku</c>.
    /// </summary>
    public static SqlStatement Search(SearchRequest request, SearchPlan plan, bool withQueryItem = false)
    {
        var p = new Parameters();
        var fingerprint = p.Add("fingerprint", plan.Fingerprint);
        string query;
        string? page = null;
        var breadth = plan is { Index: not null, Breadth: > 0 } ? SearchBreadth.Columns(p.Add("ef_search", SearchBreadth.Value(plan.Breadth))) : "";
        if (request.QuerySku is { } sku)
        {
            page = p.Add("query_sku", sku);
            // Only a query item of the live model set: another set's vectors are of another space (or dimension).
            query = $"SELECT embedding AS e, image_embedding AS i, text_embedding AS t{breadth} FROM items WHERE sku = {page} AND fingerprint = {fingerprint}";
        }
        else
        {
            query = $"SELECT {p.Add("fused", new Vector(request.Fused!))}::vector AS e, {p.Vector("image", request.Image)}::vector AS i, "
                + $"{p.Vector("text", request.Text)}::vector AS t{breadth}";
        }
        var where = Conditions(request, p, fingerprint, plan.Index, page);
        // The index search orders by the index's own expression against a value computed once (an InitPlan), which the
        // HNSW index can serve; the exact scan by float32 distance, which no index serves.
        var order = plan.Index is { } index ? $"{index.Expression} <=> (SELECT e FROM q)::halfvec({index.Dimension})" : "embedding <=> (SELECT e FROM q)";
        var blended = request.Criteria.Blend > 0 && page is not null;
        var blend = blended ? p.Add("blend", request.Criteria.Blend) : null;
        var rows = p.Add("rows", plan.Rows);
        // pgvector's operators are strict: a missing modality on either side gives a NULL score. An item's page also
        // reads the items pinned on it, under the same filters, scored like the rest.
        var pins = page is null || request.CategoryOfQuery ? "" : $"""

            UNION ALL
            (SELECT {Scored(request.Criteria, p, "q.e", "q.i", "q.t", blended ? BlendSql.CoEngaged(page!, "items", blend!) : null)}, pins.position AS pin_position
             FROM ({RulesOf(page, "pin")}) pins JOIN items ON items.sku = pins.other, q
             WHERE {Conditions(request, p, fingerprint, index: null, page)})
            """;
        var source = $"SELECT * FROM items WHERE {where} ORDER BY {order} LIMIT {p.Add("candidates", plan.Candidates)}";
        if (blended)
            source = BlendSql.Candidates(source, page!, where, p.Add("co_candidates", plan.Candidates));
        var search = $"""
            WITH q AS ({query})
            (SELECT {Returned(request.Criteria, "q.i", "q.t", blended)}, NULL::integer AS pin_position
             FROM (SELECT {Ranked(request.Criteria, p, "q.i", "q.t", blended ? BlendSql.CoEngaged(page!, "candidates", blend!) : null)}
                   -- OFFSET 0 keeps the subquery whole, so score is one computed column that rank reads, not an expression copied into both
                   FROM (SELECT *, 1 - (embedding <=> (SELECT e FROM q)) AS score FROM ({source}) source OFFSET 0) candidates, q
                   ORDER BY rank DESC, sku
                   LIMIT {rows}) found, q){pins}
            """;
        return p.Statement(withQueryItem ? $"""
            SELECT state.revision, state.fingerprint, page.* FROM ({QueryItemRow(p, page!)}) state LEFT JOIN LATERAL (
            {search}) page ON true
            """ : search);
    }

    /// <summary>A batch's SKUs: each one's model set (null: no such item) and whether its page has pinned items.</summary>
    public static SqlStatement BatchItems(IReadOnlyList<string> skus)
    {
        var p = new Parameters();
        return p.Statement($"""
            SELECT u.sku, i.fingerprint, EXISTS ({RulesOf("u.sku", "pin")}) AS pinned
            FROM unnest({p.Add("skus", skus.ToArray())}::text[]) u(sku) LEFT JOIN items i USING (sku)
            """);
    }

    /// <summary>Each SKU's search in a LATERAL join over the list (<c>query_sku</c> names whose results a row is), in the SKUs' order.</summary>
    public static SqlStatement BatchSearch(IReadOnlyList<string> skus, SearchCriteria criteria, SearchPlan plan)
    {
        var p = new Parameters();
        var request = new SearchRequest(null, null, null, null, criteria);
        var fingerprint = p.Add("fingerprint", plan.Fingerprint);
        var where = Conditions(request, p, fingerprint, plan.Index, page: "q.query_sku");
        var order = plan.Index is { } index ? $"{index.Expression} <=> q.e::halfvec({index.Dimension})" : "embedding <=> q.e";
        var skuArray = p.Add("skus", skus.ToArray());
        var content = $"SELECT * FROM items WHERE {where} AND sku <> q.query_sku ORDER BY {order} LIMIT {p.Add("candidates", plan.Candidates)}";
        return p.Statement($"""
            WITH q AS (
                SELECT DISTINCT ON (i.sku) u.ord, i.sku AS query_sku, i.embedding AS e, i.image_embedding AS i, i.text_embedding AS t
                FROM unnest({skuArray}::text[]) WITH ORDINALITY u(sku, ord) JOIN items i ON i.sku = u.sku AND i.fingerprint = {fingerprint}
                ORDER BY i.sku, u.ord)
            SELECT q.query_sku, r.* FROM q CROSS JOIN LATERAL (
                SELECT {Scored(criteria, p, "q.e", "q.i", "q.t", criteria.Blend > 0 ? BlendSql.CoEngaged("q.query_sku", "candidates", p.Add("blend", criteria.Blend)) : null)}
                FROM ({(criteria.Blend > 0 ? BlendSql.Candidates(content, "q.query_sku", where, p.Add("co_candidates", plan.Candidates)) : content)}) candidates
                ORDER BY rank DESC, sku
                LIMIT {p.Add("rows", plan.Rows)}) r
            ORDER BY q.ord, r.rank DESC, r.sku
            """);
    }

    /// <summary>
    /// bestScore: candidates are the nearest items of each positive example; each is scored by the max over positives
    /// of weight × similarity minus the max over negatives of the same (the fused cosine, or the weighted one).
    /// </summary>
    public static SqlStatement BestScore(IReadOnlyList<Example> examples, SearchCriteria criteria, SearchPlan plan)
    {
        var p = new Parameters();
        var request = new SearchRequest(null, null, null, null, criteria);
        var fingerprint = p.Add("fingerprint", plan.Fingerprint);
        var (skus, weights, positive) = (p.Add("example_skus", examples.Select(e => e.Sku).ToArray()),
            p.Add("example_weights", examples.Select(e => e.Weight).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Double),
            p.Add("example_positive", examples.Select(e => e.Positive).ToArray()));
        var where = Conditions(request, p, fingerprint, plan.Index, page: null);
        var order = plan.Index is { } index ? $"{index.Expression} <=> ex.e::halfvec({index.Dimension})" : "embedding <=> ex.e";
        var similarity = criteria.ImageWeight is not null
            ? $"({p.Add("image_weight", criteria.ImageWeight)} * coalesce(1 - (c.image_embedding <=> ex.i), 0) + {p.Add("text_weight", criteria.TextWeight ?? 0d)} * coalesce(1 - (c.text_embedding <=> ex.t), 0))"
            : "(1 - (c.embedding <=> ex.e))";
        return p.Statement($"""
            WITH ex AS (
                SELECT u.weight, u.positive, i.embedding AS e, i.image_embedding AS i, i.text_embedding AS t
                FROM unnest({skus}::text[], {weights}::float8[], {positive}::boolean[]) u(sku, weight, positive) JOIN items i ON i.sku = u.sku AND i.fingerprint = {fingerprint}),
            near AS (
                SELECT DISTINCT n.sku FROM ex CROSS JOIN LATERAL (
                    SELECT sku FROM items WHERE {where} ORDER BY {order} LIMIT {p.Add("candidates", plan.Candidates)}) n
                WHERE ex.positive)
            SELECT c.sku, c.title, c.category, c.brand, c.price, c.currency, c.available, c.image_url, c.image_sha256 IS NOT NULL AS has_image{OptionalColumns(criteria, "c.")},
                   s.best AS score, NULL::float8 AS image_score, NULL::float8 AS text_score, s.best AS rank
            FROM items c JOIN near USING (sku)
            CROSS JOIN LATERAL (
                SELECT max(ex.weight * {similarity}) FILTER (WHERE ex.positive)
                     - coalesce(max(ex.weight * {similarity}) FILTER (WHERE NOT ex.positive), 0) AS best
                FROM ex) s
            ORDER BY rank DESC, c.sku
            LIMIT {p.Add("rows", plan.Rows)}
            """);
    }

    /// <summary>The rules of one kind on the page of the item <paramref name="page"/> (SQL): the other item of each, and its position.</summary>
    internal static string RulesOf(string page, string kind) => $"""
        SELECT CASE WHEN r.sku = {page} THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = '{kind}' AND (r.sku = {page} OR (r.both_ways AND r.other_sku = {page}))
        """;

    /// <summary>
    /// The filters as SQL over <c>items</c>: the live model set, not excluded, inside the index's reach when it searches
    /// the index, and the caller's filters. On the page of the item <paramref name="page"/> (SQL), not blocked there by an
    /// admin's rule, and with <c>CategoryOfQuery</c>, only of its category.
    /// </summary>
    internal static string Conditions(SearchRequest request, Parameters p, string fingerprint, IndexShape? index, string? page)
    {
        var filter = request.Filter;
        var where = new StringBuilder($"fingerprint = {fingerprint} AND sku <> ALL({p.Add("exclude", filter.Exclude, NpgsqlDbType.Array | NpgsqlDbType.Text)})");
        if (index is not null)
            where.Append(" AND ").Append(index.Predicate);
        if (page is not null)
            where.Append($" AND sku NOT IN (SELECT other FROM ({RulesOf(page, "block")}) blocked)");
        if (page is not null && request.CategoryOfQuery)
            where.Append($" AND lower(category) = lower((SELECT category FROM items WHERE sku = {page}))");
        // Case-insensitive, as a shop means them ("Mugs" is "mugs"); the indexes are on lower(…) to match.
        if (filter.Category is { } category) where.Append($" AND lower(category) = lower({p.Add("category", category)})");
        if (filter.Brand is { } brand) where.Append($" AND lower(brand) = lower({p.Add("brand", brand)})");
        if (filter.PriceMin is { } priceMin) where.Append($" AND price >= {p.Add("price_min", priceMin)}");
        if (filter.PriceMax is { } priceMax) where.Append($" AND price <= {p.Add("price_max", priceMax)}");
        if (filter.Available is { } available) where.Append($" AND available = {p.Add("available", available)}");
        return where.ToString();
    }

    /// <summary>The columns of a result over <c>items</c> and the query's vectors, ending in its ranking score <c>rank</c>.</summary>
    /// <paramref name="coEngaged"/>: when blended, the co-engagement part (<see cref="BlendSql.CoEngaged"/>), read as
    /// <c>co_engaged</c> and added to the rank.
    internal static string Scored(SearchCriteria criteria, Parameters p, string e, string i, string t, string? coEngaged = null)
    {
        var rank = criteria.ImageWeight is not null
            ? $"{p.Add("image_weight", criteria.ImageWeight)} * coalesce(1 - (image_embedding <=> {i}), 0) + {p.Add("text_weight", criteria.TextWeight ?? 0d)} * coalesce(1 - (text_embedding <=> {t}), 0)"
            : $"1 - (embedding <=> {e})";
        if (coEngaged is not null)
            rank = $"{coEngaged} AS co_engaged,\n({rank}) + {coEngaged}";
        return $"""
            sku, title, category, brand, price, currency, available, image_url, image_sha256 IS NOT NULL AS has_image{OptionalColumns(criteria)},
            1 - (embedding <=> {e}) AS score, 1 - (image_embedding <=> {i}) AS image_score, 1 - (text_embedding <=> {t}) AS text_score,
            {rank} AS rank
            """;
    }

    /// <summary>
    /// The columns of a candidate ranked (over <c>candidates</c>, whose <c>score</c> is its fused cosine), ending in its
    /// ranking score <c>rank</c>, with the image and text vectors that <see cref="Returned"/> scores.
    /// </summary>
    static string Ranked(SearchCriteria criteria, Parameters p, string i, string t, string? coEngaged)
    {
        var rank = criteria.ImageWeight is not null
            ? $"{p.Add("image_weight", criteria.ImageWeight)} * coalesce(1 - (image_embedding <=> {i}), 0) + {p.Add("text_weight", criteria.TextWeight ?? 0d)} * coalesce(1 - (text_embedding <=> {t}), 0)"
            : "score";
        if (coEngaged is not null)
            rank = $"{coEngaged} AS co_engaged, ({rank}) + {coEngaged}";
        return $"sku, title, category, brand, price, currency, available, image_url, image_sha256 IS NOT NULL AS has_image{OptionalColumns(criteria)}, image_embedding, text_embedding, score, {rank} AS rank";
    }

    /// <summary>The columns of a result over <see cref="Ranked"/>'s rows, in <see cref="Scored"/>'s order: the image and text cosines of the rows kept only.</summary>
    static string Returned(SearchCriteria criteria, string i, string t, bool blended) =>
        $"sku, title, category, brand, price, currency, available, image_url, has_image{OptionalNames(criteria)}, score, "
        + $"1 - (image_embedding <=> {i}) AS image_score, 1 - (text_embedding <=> {t}) AS text_score{(blended ? ", co_engaged" : "")}, rank";

    /// <summary>The names of <see cref="OptionalColumns"/>, to select them again from a subquery.</summary>
    static string OptionalNames(SearchCriteria criteria) =>
        (criteria.Fields.HasFlag(ResultFields.Description) ? ", description" : "")
        + (criteria.Fields.HasFlag(ResultFields.Attributes) ? ", attributes" : "")
        + (criteria.Ranking.NeedsVectors ? ", vector" : "");

    /// <summary>The columns only some requests read (<c>fields=</c>, and the vectors diversity compares), of <paramref name="table"/>.</summary>
    internal static string OptionalColumns(SearchCriteria criteria, string table = "") =>
        (criteria.Fields.HasFlag(ResultFields.Description) ? $", {table}description" : "")
        + (criteria.Fields.HasFlag(ResultFields.Attributes) ? $", {table}attributes::text AS attributes" : "")
        + (criteria.Ranking.NeedsVectors ? $", {table}embedding AS vector" : "");

    /// <summary>A statement's named parameters, each added once however often the text names it.</summary>
    internal sealed class Parameters
    {
        readonly List<NpgsqlParameter> _list = [];

        public string Add(string name, object? value, NpgsqlDbType? type = null)
        {
            if (!_list.Exists(p => p.ParameterName == name))
            {
                var parameter = new NpgsqlParameter(name, value ?? DBNull.Value);
                if (type is { } t)
                    parameter.NpgsqlDbType = t;
                _list.Add(parameter);
            }
            return "@" + name;
        }

        /// <summary>A vector that may be missing (a query without that modality): typed, so NULL is a vector.</summary>
        public string Vector(string name, float[]? vector)
        {
            if (!_list.Exists(p => p.ParameterName == name))
                _list.Add(vector is null ? new NpgsqlParameter { ParameterName = name, Value = DBNull.Value, DataTypeName = "vector" } : new NpgsqlParameter(name, new Vector(vector)));
            return "@" + name;
        }

        public SqlStatement Statement(string text) => new(text, [.. _list]);
    }
}
