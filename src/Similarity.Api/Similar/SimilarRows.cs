using System.Text.Json;
using Npgsql;
using Pgvector;

namespace Similarity.Similar;

/// <summary>The rows of <see cref="SimilarSql"/>'s statements as records: one mapping function per query, columns read by name.</summary>
static class SimilarRows
{
    public static QueryItem QueryItem(NpgsqlDataReader reader, string liveFingerprint)
    {
        var fingerprint = reader.GetOrdinal("fingerprint");
        var state = reader.IsDBNull(fingerprint) ? QueryItemState.Missing
            : reader.GetString(fingerprint) == liveFingerprint ? QueryItemState.Current : QueryItemState.OtherModelSet;
        return new QueryItem(reader.GetInt64(reader.GetOrdinal("revision")), state);
    }

    /// <summary>Whether a search's row read with its query item is the one row of a page with no results (no <c>sku</c>).</summary>
    public static bool IsEmptyPage(NpgsqlDataReader reader) => reader.IsDBNull(reader.GetOrdinal("sku"));

    /// <summary>A batch SKU's item: its model set's fingerprint (null: no such item), and whether its page has pinned items.</summary>
    public static (string Sku, string? Fingerprint, bool Pinned) BatchItem(NpgsqlDataReader reader)
    {
        var fingerprint = reader.GetOrdinal("fingerprint");
        return (reader.GetString(reader.GetOrdinal("sku")), reader.IsDBNull(fingerprint) ? null : reader.GetString(fingerprint),
            reader.GetBoolean(reader.GetOrdinal("pinned")));
    }

    /// <summary>A row of a batch's search: the SKU whose page it is on, and the result.</summary>
    public static (string QuerySku, SimilarResult Result) BatchResult(NpgsqlDataReader reader, SearchCriteria criteria) =>
        (reader.GetString(reader.GetOrdinal("query_sku")), Result(reader, criteria));

    /// <summary>A search's row: a candidate, or (<c>pin_position</c> not null) a result an admin pinned on the page.</summary>
    public static (Candidate Candidate, int? PinPosition) SearchRow(NpgsqlDataReader reader, SearchCriteria criteria)
    {
        var position = reader.GetOrdinal("pin_position");
        return (Candidate(reader, criteria), reader.IsDBNull(position) ? null : reader.GetInt32(position));
    }

    public static Candidate Candidate(NpgsqlDataReader reader, SearchCriteria criteria) =>
        new(Result(reader, criteria), criteria.Ranking.NeedsVectors ? reader.GetFieldValue<Vector>(reader.GetOrdinal("vector")).ToArray() : null);

    public static SimilarResult Result(NpgsqlDataReader reader, SearchCriteria criteria)
    {
        string? Text(string column) => reader.GetOrdinal(column) is var i && reader.IsDBNull(i) ? null : reader.GetString(i);
        double? Number(string column) => reader.GetOrdinal(column) is var i && reader.IsDBNull(i) ? null : reader.GetDouble(i);
        var price = reader.GetOrdinal("price");
        var score = reader.GetDouble(reader.GetOrdinal("score"));
        double? weighted = criteria.ImageWeight is null ? null : reader.GetDouble(reader.GetOrdinal("rank"));
        ScoreReasons? reasons = null;
        if (criteria.Blend > 0)
        {
            // rank is content + co-engagement already, so a weighted score read from it is blended.
            var coEngaged = reader.GetDouble(reader.GetOrdinal("co_engaged"));
            reasons = new ScoreReasons(weighted - coEngaged ?? score, coEngaged == 0 ? null : coEngaged);
            score += coEngaged;
        }
        return new SimilarResult(
            reader.GetString(reader.GetOrdinal("sku")), reader.GetString(reader.GetOrdinal("title")), Text("category"), Text("brand"),
            reader.IsDBNull(price) ? null : reader.GetDecimal(price), Text("currency"), reader.GetBoolean(reader.GetOrdinal("available")),
            Text("image_url"), reader.GetBoolean(reader.GetOrdinal("has_image")), score, Number("image_score"), Number("text_score"),
            weighted,
            criteria.Fields.HasFlag(ResultFields.Description) ? Text("description") : null,
            criteria.Fields.HasFlag(ResultFields.Attributes) ? JsonElement.Parse(reader.GetString(reader.GetOrdinal("attributes"))) : null,
            Reasons: reasons);
    }
}
