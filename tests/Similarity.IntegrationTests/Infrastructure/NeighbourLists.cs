using Npgsql;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>The neighbour lists of a test's database, read straight from their tables.</summary>
public static class NeighbourLists
{
    /// <summary>Waits until the worker has applied every queued change: the queue's rows go only when a round commits.</summary>
    public static async Task AppliedAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM similar_list_queue", connection);
        while ((long)(await command.ExecuteScalarAsync())! > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the neighbour lists were not up to date after 2 minutes");
            await Task.Delay(50);
        }
    }

    public static async Task<Dictionary<string, (string[] Neighbours, double[] Scores)>> ReadAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT sku, neighbours, scores FROM similar_lists", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var lists = new Dictionary<string, (string[], double[])>();
        while (await reader.ReadAsync())
            lists[reader.GetString(0)] = (reader.GetFieldValue<string[]>(1), reader.GetFieldValue<double[]>(2));
        return lists;
    }
}
