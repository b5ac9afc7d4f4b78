namespace Similarity.Similar;

/// <summary>
/// The lexical score of an item's page ("more like this"): the TF-IDF cosine of the query item's whole text and a
/// candidate's, written out in SQL because PostgreSQL's <c>ts_rank</c> knows no document frequencies (a word every
/// item holds weighs as much as a rare brand name) and has no BM25 either. A word weighs tf · idf in each text, with
/// tf its occurrences (the tsvector's positions) and idf = ln((1 + N) / (1 + df)) + 1 (smoothed, as the bench's TF-IDF
/// baseline); df is read from the vocabulary table, exact for the default <c>simple</c> configuration (a stem the
/// vocabulary lacks counts as held by one item). On the validation split the cosine ranked better than BM25 for
/// item-to-item queries (docs/benchmarks.md), where query and candidate are texts of the same kind. Pure: SQL text.
/// </summary>
public static class LexicalScoring
{
    /// <summary>How many candidates ts_rank (cheap, in the index's order) hands to the cosine per candidate kept.</summary>
    public const int Prefetch = 10;

    /// <summary>A lexeme's occurrences in a row <c>u</c> of <c>unnest(tsvector)</c>.</summary>
    const string Tf = "coalesce(array_length(u.positions, 1), 1)";

    /// <summary>The smoothed idf of a word held by <paramref name="df"/> items, with <c>docs.n</c> the catalog's size.</summary>
    static string Idf(string df) => $"(ln((1 + (SELECT n FROM docs)) / (1 + {df})) + 1)";

    /// <summary>The catalog's size, for <see cref="Idf"/>: a CTE named <c>docs</c> (the count the vocabulary's triggers keep).</summary>
    public const string Docs = "SELECT items::float8 AS n FROM lexical_state";

    /// <summary>
    /// The terms of the item <paramref name="page"/> names: each of its lexemes with its query (a tsquery literal) and
    /// tf · idf weight, for <see cref="Score"/> to join. Columns: word, query, weight.
    /// </summary>
    public static string ItemTerms(string page) => $"""
        SELECT u.lexeme AS word, quote_literal(u.lexeme)::tsquery AS query,
               {Tf} * {Idf("coalesce((SELECT v.items FROM lexical_words v WHERE v.word = u.lexeme), (SELECT count(*) FROM items x WHERE x.lexical @@ quote_literal(u.lexeme)::tsquery))")} AS weight
        FROM items i CROSS JOIN LATERAL unnest(i.lexical) u
        WHERE i.sku = {page}
        """;

    /// <summary>The length of the terms' tf · idf vector: a CTE named <c>qnorm</c> over <c>terms</c>.</summary>
    public const string QueryNorm = "SELECT sqrt(sum(weight * weight)) AS v FROM terms";

    /// <summary>
    /// The cosine of tsvector <paramref name="vector"/>'s tf · idf vector and the query's (CTEs <c>terms</c>, <c>qnorm</c>,
    /// <c>docs</c>); 0 when no word is shared.
    /// </summary>
    public static string Score(string vector) => $"""
        coalesce((SELECT sum(t.weight * {Tf} * {Idf("coalesce((SELECT v.items FROM lexical_words v WHERE v.word = u.lexeme), 1)")})
                  FROM unnest({vector}) u JOIN terms t ON t.word = u.lexeme)
            / nullif((SELECT v FROM qnorm) * (SELECT sqrt(sum(power({Tf} * {Idf("coalesce(v.items, 1)")}, 2)))
                  FROM unnest({vector}) u LEFT JOIN lexical_words v ON v.word = u.lexeme), 0), 0)
        """;
}
