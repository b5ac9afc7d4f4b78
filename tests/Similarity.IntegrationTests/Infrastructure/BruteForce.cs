using Npgsql;
using Pgvector;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>
/// The reference for every ranking test: all stored vectors read straight from the table and ranked here by
/// exact cosine in double precision — no index, no SQL ordering, none of the service's search code.
/// </summary>
public sealed record StoredVectors(string Sku, double[] Fused, double[]? Image, double[]? Text, string? Category, string? Brand, decimal? Price, bool Available);

public static class BruteForce
{
    public static async Task<List<StoredVectors>> ReadAllAsync(TestDatabase database)
    {
        var builder = new NpgsqlDataSourceBuilder(database.ConnectionString);
        builder.UseVector();
        await using var dataSource = builder.Build();
        await using var command = dataSource.CreateCommand(
            "SELECT sku, embedding, image_embedding, text_embedding, category, brand, price, available FROM items");
        await using var reader = await command.ExecuteReaderAsync();
        var items = new List<StoredVectors>();
        while (await reader.ReadAsync())
        {
            items.Add(new StoredVectors(
                reader.GetString(0), ToDouble(reader.GetFieldValue<Vector>(1)),
                reader.IsDBNull(2) ? null : ToDouble(reader.GetFieldValue<Vector>(2)),
                reader.IsDBNull(3) ? null : ToDouble(reader.GetFieldValue<Vector>(3)),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetDecimal(6), reader.GetBoolean(7)));
        }
        return items;
    }

    static double[] ToDouble(Vector vector) => [.. vector.ToArray().Select(v => (double)v)];

    public static double Cosine(double[] a, double[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }

    public static double? CosineOrNull(double[]? a, double[]? b) => a is null || b is null ? null : Cosine(a, b);
}
