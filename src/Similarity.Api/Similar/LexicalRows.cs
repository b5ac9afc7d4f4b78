using Npgsql;

namespace Similarity.Similar;

/// <summary>A row of <see cref="LexicalSql.Search"/>: the candidate with its lexical score and matched words, and whether the lexical list holds it.</summary>
static class LexicalRows
{
    public static (Candidate Candidate, bool InLexicalList) SearchRow(NpgsqlDataReader reader, SearchCriteria criteria)
    {
        var candidate = SimilarRows.Candidate(reader, criteria);
        var matched = reader.GetFieldValue<string[]>(reader.GetOrdinal("matched"));
        var result = candidate.Result with { LexicalScore = reader.GetDouble(reader.GetOrdinal("lexical_score")), Matched = matched };
        return (candidate with { Result = result }, reader.GetBoolean(reader.GetOrdinal("lexical_candidate")));
    }

    public static LexicalWord Word(NpgsqlDataReader reader)
    {
        var correction = reader.GetOrdinal("correction");
        return new LexicalWord(reader.GetString(reader.GetOrdinal("word")), reader.GetBoolean(reader.GetOrdinal("known")),
            reader.IsDBNull(correction) ? null : reader.GetString(correction));
    }
}
