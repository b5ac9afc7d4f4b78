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

    /// <summary>The server this database lives on: the shared test cluster, or a test's own.</summary>
    public string Server { get; private init; } = "";

    public static Task<TestDatabase> CreateAsync() => CreateAsync(ServerConnectionString);

    public static async Task<TestDatabase> CreateAsync(string serverConnectionString)
    {
        var name = "test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = await OpenAdminAsync(serverConnectionString))
            await Execute(admin, $"CREATE DATABASE {name}");
        var builder = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name };
        return new TestDatabase(name, builder.ConnectionString) { Server = serverConnectionString };
    }

    /// <summary>A connection of the test's own to this database, outside any pool the service uses.</summary>
    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Runs SQL on this database as the test (a superuser), e.g. to inject a fault or read what was stored.</summary>
    public async Task<object?> ExecuteAsync(string sql, params object[] parameters)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
            command.Parameters.Add(new() { Value = parameter });
        return await command.ExecuteScalarAsync();
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

    Task<NpgsqlConnection> OpenAdminAsync() => OpenAdminAsync(Server);

    static async Task<NpgsqlConnection> OpenAdminAsync(string server)
    {
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false };
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
