using Npgsql;
using Pgvector;

namespace Similarity.Database;

/// <summary>A pgvector parameter for a vector that may be missing (an item without a picture has no image vector).</summary>
public static class VectorParameters
{
    /// <summary>The vector, or a typed NULL; <paramref name="name"/> for a statement with named parameters.</summary>
    public static NpgsqlParameter VectorParameter(float[]? vector, string? name = null) => vector is null
        ? new NpgsqlParameter { ParameterName = name ?? "", Value = DBNull.Value, DataTypeName = "vector" }
        : new NpgsqlParameter { ParameterName = name ?? "", Value = new Vector(vector) };
}
