using Npgsql;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>
/// A database of its own for one test class, created on the cluster that <c>./similarity.sh test</c> started,
/// so classes run in parallel and never see each other's rows.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public string Name { get; }
    public string ConnectionString { get; }

    TestDatabase(string name, string connectionString) => (Name, ConnectionString) = (name, connectionString);

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Similarity") is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException("ConnectionStrings__Similarity is not set: run the tests with ./similarity.sh test.");

    public static async Task<TestDatabase> CreateAsync()
    {
        var name = "test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = await OpenAdminAsync())
            await Execute(admin, $"CREATE DATABASE {name}");
        var builder = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name };
        return new TestDatabase(name, builder.ConnectionString);
    }

    /// <summary>Makes the database refuse new connections and drops the open ones: the service sees it as down.</summary>
    public async Task TakeOfflineAsync()
    {
        await using var admin = await OpenAdminAsync();
        await Execute(admin, $"ALTER DATABASE {Name} ALLOW_CONNECTIONS false");
        await Execute(admin, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{Name}'");
    }

    public async Task BringOnlineAsync()
    {
        await using var admin = await OpenAdminAsync();
        await Execute(admin, $"ALTER DATABASE {Name} ALLOW_CONNECTIONS true");
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = await OpenAdminAsync();
        await Execute(admin, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    static async Task<NpgsqlConnection> OpenAdminAsync()
    {
        var builder = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
