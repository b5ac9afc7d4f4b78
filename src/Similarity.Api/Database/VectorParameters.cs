using Npgsql;
using Pgvector;

namespace Similarity.Database;

/// <summary>A pgvector parameter for a vector that may be missing (an item without a picture has no image vector).</summary>
public static class VectorParameters
{
    public static NpgsqlParameter VectorParameter(float[]? vector) =>
        vector is null ? new NpgsqlParameter { Value = DBNull.Value, DataTypeName = "vector" } : new NpgsqlParameter { Value = new Vector(vector) };
}
