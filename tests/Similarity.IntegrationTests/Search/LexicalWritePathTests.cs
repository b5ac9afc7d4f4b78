using System.Net;
using System.Text;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Search;

/// <summary>Every write path keeps the lexical index, the vocabulary and its catalog size current: PUT, PATCH, DELETE, imports and TRUNCATE.</summary>
public sealed class LexicalWritePathTests(LexicalCatalog catalog) : IClassFixture<LexicalCatalog>
{
    async Task<string[]> LexicalAsync(string word) =>
        [.. (await catalog.SearchAsync($"q={word}&mode=lexical")).Results.Select(r => r.Sku).Order()];

    /// <summary>How many items the vocabulary says hold <paramref name="word"/> (0: not in it), read from the table.</summary>
    async Task<int> VocabularyCountAsync(string word)
    {
        await using var connection = new NpgsqlConnection(catalog.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT coalesce((SELECT items FROM lexical_words WHERE word = @word), 0)", connection);
        command.Parameters.AddWithValue("word", word);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The catalog size the vocabulary's triggers keep (lexical_state.items), and the catalog's own count.</summary>
    async Task<(long Kept, long Counted)> CatalogSizeAsync()
    {
        await using var connection = new NpgsqlConnection(catalog.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT (SELECT items FROM lexical_state), (SELECT count(*) FROM items)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    [Fact]
    public async Task Put_patch_and_delete_keep_the_index_and_the_vocabulary_current()
    {
        var admin = catalog.CreateAdminClient();
        await admin.PutItemAsync(new TestItem("wp-1", "Zeppelin model kit", "toys", "airship", 20m));
        await admin.PutItemAsync(new TestItem("wp-2", "Zeppelin poster", "posters", "airship", 5m));
        Assert.Equal(["wp-1", "wp-2"], await LexicalAsync("zeppelin"));
        Assert.Equal(2, await VocabularyCountAsync("zeppelin"));

        var patched = await admin.PatchAsync("/items/wp-1", new StringContent("""{"title": "Dirigible model kit", "attributes": {"scale": "1:200 balsa"}}""",
            Encoding.UTF8, "application/merge-patch+json"));
        Assert.True(patched.IsSuccessStatusCode, await patched.Content.ReadAsStringAsync());
        Assert.Equal(["wp-2"], await LexicalAsync("zeppelin"));
        Assert.Equal(["wp-1"], await LexicalAsync("dirigible"));
        Assert.Equal(["wp-1"], await LexicalAsync("balsa")); // attribute values are words too
        Assert.Equal(1, await VocabularyCountAsync("zeppelin"));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/items/wp-2")).StatusCode);
        Assert.Empty(await LexicalAsync("zeppelin"));
        Assert.Equal(0, await VocabularyCountAsync("zeppelin"));
        var (kept, counted) = await CatalogSizeAsync();
        Assert.Equal(counted, kept);
        Assert.True(kept > 40, $"{kept}"); // the seeded catalog: not an empty table's 0
        // A word gone from the catalog is no longer a correction.
        Assert.Empty((await catalog.SearchAsync("q=zepelin&mode=lexical")).Corrections!);
    }

    [Fact]
    public async Task An_import_indexes_its_rows_and_replaces_the_words_of_rows_it_updates()
    {
        var admin = catalog.CreateAdminClient();
        var first = await admin.WaitForEndAsync((await admin.StartAsync(ImportClient.Form(
            "sku,title,description\nim-1,Harmonica in C,A blues harp\nim-2,Kazoo,Plastic kazoo"))).Id);
        Assert.True(first.Status == "succeeded", await admin.GetStringAsync(first.Errors));
        Assert.Equal(["im-1"], await LexicalAsync("harmonica"));
        Assert.Equal(["im-1"], await LexicalAsync("harp"));

        var second = await admin.WaitForEndAsync((await admin.StartAsync(ImportClient.Form("sku,title\nim-1,Melodica"))).Id);
        Assert.True(second.Status == "succeeded", await admin.GetStringAsync(second.Errors));
        Assert.Empty(await LexicalAsync("harmonica"));
        Assert.Equal(["im-1"], await LexicalAsync("melodica"));
        Assert.Equal(0, await VocabularyCountAsync("harmonica"));
        Assert.Equal(1, await VocabularyCountAsync("kazoo"));
        var (kept, counted) = await CatalogSizeAsync(); // an import's inserts counted, its update of im-1 not again
        Assert.Equal(counted, kept);
    }

    [Fact]
    public async Task Truncating_the_catalog_empties_the_vocabulary_and_its_size()
    {
        // In a transaction rolled back: the class's other tests keep their catalog.
        await using var connection = new NpgsqlConnection(catalog.Database.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await new NpgsqlCommand("TRUNCATE items CASCADE", connection, transaction).ExecuteNonQueryAsync();
        await using var command = new NpgsqlCommand("SELECT (SELECT items FROM lexical_state), (SELECT count(*) FROM lexical_words)", connection, transaction);
        await using (var reader = await command.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            Assert.Equal((0L, 0L), (reader.GetInt64(0), reader.GetInt64(1)));
        }
        await transaction.RollbackAsync();
    }
}
