namespace Similarity.Similar;

/// <summary>
/// The SQL of the lexical index: the catalog revision, a text query's words with their typo corrections, and the
/// lexical search. Each query is built here and only here, with named parameters. Pure, like <see cref="SimilarSql"/>.
/// </summary>
public static class LexicalSql
{
    /// <summary>The trigram similarity a vocabulary word needs to be weighed as a correction (pg_trgm's default, 0.3, misses "pera" → "pears").</summary>
    public const double TrigramThreshold = 0.2;

    /// <summary>The catalog revision, as /similar's ETags read it (the catalog's plus the neighbour lists').</summary>
    public static SqlStatement Revision() =>
        new SimilarSql.Parameters().Statement("SELECT revision + (SELECT revision FROM similar_lists_state) AS revision FROM catalog_state");

    /// <summary>Lowers the trigram threshold of the <c>%</c> operator for the rest of the round trip's transaction.</summary>
    public static SqlStatement Threshold()
    {
        var p = new SimilarSql.Parameters();
        return p.Statement($"SELECT set_config('pg_trgm.similarity_threshold', {p.Add("threshold", TrigramThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture))}, true)");
    }

    /// <summary>
    /// The words of <paramref name="text"/> in order, each known to the vocabulary or not, and for an unknown one the
    /// nearest vocabulary word within its edit bound (none below <paramref name="oneTypo"/> letters, one edit from it,
    /// two from <paramref name="twoTypos"/>): fewest edits first, then the word more items hold.
    /// </summary>
    public static SqlStatement Words(string text, int oneTypo, int twoTypos)
    {
        var p = new SimilarSql.Parameters();
        return p.Statement($"""
            SELECT u.lexeme AS word, k.known, c.word AS correction
            FROM unnest(to_tsvector('simple', public.unaccent({p.Add("text", text)}))) u
            CROSS JOIN LATERAL (SELECT CASE WHEN length(u.lexeme) >= {p.Add("two_typos", twoTypos)} THEN 2
                                            WHEN length(u.lexeme) >= {p.Add("one_typo", oneTypo)} THEN 1 ELSE 0 END AS edits) b
            -- Known: a catalog word (the key), or the start of one for a word the search matches as a prefix. (One OR
            -- inside one EXISTS, with a LIKE pattern computed per word, was a scan of the vocabulary per word.)
            CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM lexical_words w WHERE w.word = u.lexeme)
                OR (length(u.lexeme) >= {p.Add("prefix_length", LexicalQuery.PrefixLength)}
                    AND EXISTS (SELECT 1 FROM lexical_words w WHERE {Begins("w.word", "u.lexeme")})) AS known) k
            LEFT JOIN LATERAL (
                SELECT w.word FROM lexical_words w
                WHERE NOT k.known AND b.edits > 0 AND w.word % u.lexeme AND levenshtein_less_equal(w.word, u.lexeme, b.edits) <= b.edits
                ORDER BY levenshtein(w.word, u.lexeme), w.items DESC, w.word
                LIMIT 1) c ON true
            ORDER BY u.positions[1]
            """);
    }

    /// <summary>
    /// The lexical search: the best <paramref name="candidates"/> items whose text matches the query (by ts_rank,
    /// title above brand and category above description and attributes), under the request's filters, together with
    /// the items in <paramref name="also"/> (the vector list's), each with its vector scores, lexical score and matched
    /// words; <c>lexical_candidate</c> marks the lexical list. The query: <paramref name="query"/>'s words (by ts_rank), or —
    /// an item's page, <paramref name="query"/> null — every word of the item's own text (by TF-IDF cosine, <see cref="LexicalScoring"/>).
    /// </summary>
    public static SqlStatement Search(SearchRequest request, LexicalQuery? query, string fingerprintValue, int candidates, IReadOnlyList<string> also,
        bool lexicalOnly = false)
    {
        var p = new SimilarSql.Parameters();
        var fingerprint = p.Add("fingerprint", fingerprintValue);
        string vectors;
        string? page = null;
        if (request.QuerySku is { } sku)
        {
            page = p.Add("query_sku", sku);
            vectors = $"SELECT embedding AS e, image_embedding AS i, text_embedding AS t FROM items WHERE sku = {page} AND fingerprint = {fingerprint}";
        }
        else
        {
            vectors = $"SELECT {p.Vector("fused", request.Fused)}::vector AS e, {p.Vector("image", request.Image)}::vector AS i, "
                + $"{p.Vector("text", request.Text)}::vector AS t";
        }
        var where = SimilarSql.Conditions(request, p, fingerprint, index: null, page);
        var alsoSkus = p.Add("also", also.ToArray());
        var limit = p.Add("lexical_candidates", candidates);
        var pick = Pick(p.Add("lexical_only", lexicalOnly));
        if (query is null)
        {
            // An item's page: its whole text's words, by TF-IDF cosine (LexicalScoring); ts_rank, cheap, picks the candidates it orders.
            return p.Statement($"""
                WITH q AS ({vectors}),
                docs AS ({LexicalScoring.Docs}),
                terms AS ({LexicalScoring.ItemTerms(page!)}),
                qnorm AS ({LexicalScoring.QueryNorm}),
                tq AS (SELECT string_agg(query::text, ' | ')::tsquery AS query FROM terms WHERE numnode(query) > 0),
                {pick},
                pre AS (
                    SELECT sku, lexical FROM items, tq, pick WHERE {where} AND lexical @@ pick.query
                    ORDER BY ts_rank(lexical, tq.query) DESC, sku LIMIT {p.Add("prefetch", candidates * LexicalScoring.Prefetch)}),
                lex AS (SELECT sku FROM pre ORDER BY {LexicalScoring.Score("pre.lexical")} DESC, sku LIMIT {limit})
                SELECT {SimilarSql.Scored(request.Criteria, p, "q.e", "q.i", "q.t")},
                       ({LexicalScoring.Score("items.lexical")})::float8 AS lexical_score,
                       ARRAY(SELECT t.word FROM terms t WHERE numnode(t.query) > 0 AND items.lexical @@ t.query ORDER BY t.word) AS matched,
                       sku IN (SELECT sku FROM lex) AS lexical_candidate
                FROM items, q, tq
                WHERE {where} AND sku IN (SELECT sku FROM lex UNION SELECT unnest({alsoSkus}::text[]))
                """);
        }
        // A text's words go through the index's configuration (stemmed by english).
        return p.Statement($"""
            WITH q AS ({vectors}),
            terms AS (
                SELECT m.word, to_tsquery((SELECT config FROM lexical_state)::regconfig, m.literal) AS query
                FROM unnest({p.Add("words", query.Words.ToArray())}::text[], {p.Add("literals", query.Literals.ToArray())}::text[]) m(word, literal)),
            tq AS (SELECT string_agg(query::text, ' | ')::tsquery AS query FROM terms WHERE numnode(query) > 0),
            {pick},
            lex AS (
                SELECT sku FROM items, tq, pick WHERE {where} AND lexical @@ pick.query
                ORDER BY ts_rank(lexical, tq.query) DESC, sku LIMIT {limit})
            SELECT {SimilarSql.Scored(request.Criteria, p, "q.e", "q.i", "q.t")},
                   coalesce(ts_rank(items.lexical, tq.query), 0)::float8 AS lexical_score,
                   ARRAY(SELECT t.word FROM terms t WHERE numnode(t.query) > 0 AND items.lexical @@ t.query ORDER BY t.word) AS matched,
                   sku IN (SELECT sku FROM lex) AS lexical_candidate
            FROM items, q, tq
            WHERE {where} AND sku IN (SELECT sku FROM lex UNION SELECT unnest({alsoSkus}::text[]))
            """);
    }

    /// <summary>
    /// A CTE <c>pick</c> over <c>terms</c> and <c>tq</c>: the query of the words that choose the lexical candidates
    /// (all of them score, and show in <c>matched</c>). Fused with the vectors, a word more than half the catalog holds
    /// chooses none: its Robertson–Spärck Jones idf, ln((N − n + 0.5) / (n + 0.5)), is not positive — it says nothing of
    /// which item is meant — and ranking every item that holds it cost a scan of the catalog per search
    /// (docs/benchmarks.md, bench search). A prefix term (<c>'flag':*</c>) chooses none when any word it begins is such
    /// a word. By words alone (<paramref name="lexicalOnly"/>, a boolean parameter) every word chooses.
    /// </summary>
    static string Pick(string lexicalOnly) => $"""
        pick AS (SELECT CASE WHEN {lexicalOnly} THEN (SELECT query FROM tq) ELSE
            (SELECT string_agg(t.query::text, ' | ')::tsquery FROM terms t
             WHERE numnode(t.query) > 0
               AND NOT EXISTS (SELECT 1 FROM lexical_words w WHERE w.word = t.word AND w.items * 2 > (SELECT items FROM lexical_state))
               AND NOT (position(':*' IN t.query::text) > 0 AND EXISTS (SELECT 1 FROM lexical_words w
                   WHERE {Begins("w.word", "t.word")} AND w.items * 2 > (SELECT items FROM lexical_state)))) END AS query)
        """;

    /// <summary>
    /// Whether <paramref name="word"/> begins with <paramref name="prefix"/>, as a range the vocabulary's
    /// text_pattern_ops index serves (byte order; U+10FFFF sorts after any character). A LIKE pattern computed per
    /// row is served by no index.
    /// </summary>
    static string Begins(string word, string prefix) => $"{word} ~>=~ {prefix} AND {word} ~<~ ({prefix} || chr(1114111))";
}
