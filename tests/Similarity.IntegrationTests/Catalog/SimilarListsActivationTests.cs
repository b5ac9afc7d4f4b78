using Npgsql;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>The neighbour lists' part in a model set's activation, run in a transaction of the test's own.</summary>
public sealed class SimilarListsActivationTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task Activation_empties_the_lists_and_queues_every_item_inside_the_switchs_transaction()
    {
        var admin = app.CreateAdminClient();
        string[] skus = ["ac-1", "ac-2", "ac-3", "ac-4"];
        foreach (var sku in skus)
            await admin.PutItemAsync(new TestItem(sku, $"activation item {sku} red wool", "hats"));
        await NeighbourLists.AppliedAsync(app.Database);
        Assert.Equal(skus, (await NeighbourLists.ReadAsync(app.Database)).Keys.Order());

        await using var connection = await app.Database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await new NeighbourListsActivation().OnActivatingAsync(connection, transaction, CancellationToken.None);

        Assert.Equal(0L, await ScalarAsync(connection, transaction, "SELECT count(*) FROM similar_lists"));
        Assert.Equal(skus, await SkusAsync(connection, transaction, "SELECT sku FROM similar_list_queue WHERE NOT deleted ORDER BY sku"));
        await transaction.RollbackAsync();
        // Rolled back with the switch, the lists are as they were.
        Assert.Equal(skus, (await NeighbourLists.ReadAsync(app.Database)).Keys.Order());
    }

    static async Task<object?> ScalarAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return await command.ExecuteScalarAsync();
    }

    static async Task<List<string>> SkusAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync();
        var skus = new List<string>();
        while (await reader.ReadAsync())
            skus.Add(reader.GetString(0));
        return skus;
    }
}
