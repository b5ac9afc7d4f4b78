using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pgvector;
using Similarity.Database;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Foundation;

public sealed class MigrationTests
{
    [Fact]
    public async Task Migrations_apply_on_an_empty_database_and_are_a_noop_the_second_time()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = CreateDataSource(database);
        var migrator = new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance);

        Assert.Equal(DatabaseMigrator.All.Count, await migrator.ApplyAsync(default));
        Assert.Equal(0, await migrator.ApplyAsync(default));

        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.Equal(DatabaseMigrator.LatestVersion, await DatabaseMigrator.CurrentVersionAsync(connection, default));
        await using var count = new NpgsqlCommand("SELECT count(*) FROM schema_migrations", connection);
        Assert.Equal((long)DatabaseMigrator.All.Count, await count.ExecuteScalarAsync());

        // The vector type maps on this data source's connections right after the migration created it.
        await using var roundTrip = new NpgsqlCommand("SELECT $1::vector", connection);
        roundTrip.Parameters.Add(new() { Value = new Vector(new float[] { 1, 2, 3 }) });
        var read = (Vector)(await roundTrip.ExecuteScalarAsync())!;
        Assert.Equal([1f, 2f, 3f], read.ToArray());
    }

    [Fact]
    public async Task Start_against_a_newer_schema_is_refused_with_a_clear_message()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = CreateDataSource(database);
        var migrator = new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance);
        await migrator.ApplyAsync(default);
        await using (var future = dataSource.CreateCommand("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')"))
            await future.ExecuteNonQueryAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => migrator.ApplyAsync(default));
        Assert.Contains("schema version 9999", error.Message, StringComparison.Ordinal);
    }

    static NpgsqlDataSource CreateDataSource(TestDatabase database)
    {
        var builder = new NpgsqlDataSourceBuilder(database.ConnectionString);
        builder.UseVector();
        return builder.Build();
    }
}
