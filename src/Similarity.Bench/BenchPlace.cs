using Npgsql;

namespace Similarity.Bench;

/// <summary>
/// Where a benchmark runs, as <c>./similarity.sh bench</c> sets it up: the checkout's root (the working directory),
/// its <c>.data/</c>, openclipart's drawings, and the private cluster (<c>ConnectionStrings__Similarity</c>, which
/// <c>db start</c> exports). Each benchmark makes its own databases in that cluster, never touching <c>similarity</c>.
/// </summary>
public sealed class BenchPlace
{
    public const string AdminKey = "bench-only-admin-key-not-secret";
    public const string Clipart = "/usr/share/openclipart/png";

    public string Root { get; } = Directory.GetCurrentDirectory();
    public string DataDir => Path.Combine(Root, ".data");
    public string Cluster { get; }

    public BenchPlace()
    {
        Cluster = Environment.GetEnvironmentVariable("ConnectionStrings__Similarity")
            ?? throw new InvalidOperationException("ConnectionStrings__Similarity is not set: run the benchmark through ./similarity.sh bench.");
        if (!File.Exists(Path.Combine(Root, "similarity.sh")))
            throw new InvalidOperationException($"{Root} is not the checkout's root: run the benchmark through ./similarity.sh bench.");
    }

    public string Manifest(string set) => Path.Combine(Root, "models", set, "manifest.json");

    /// <summary>A folder under <c>.data/</c>, made if missing.</summary>
    public string Work(string name) => Directory.CreateDirectory(Path.Combine(DataDir, name)).FullName;

    /// <summary>The connection string of database <paramref name="database"/> in the cluster.</summary>
    public string ConnectionString(string database, int? maxPoolSize = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(Cluster) { Database = database };
        if (maxPoolSize is { } size)
            builder.MaxPoolSize = size;
        return builder.ConnectionString;
    }

    /// <summary>Drops database <paramref name="database"/> (its sessions ended) and makes it again, empty.</summary>
    public async Task RecreateAsync(string database)
    {
        await AdminAsync($"DROP DATABASE IF EXISTS {Quoted(database)} WITH (FORCE)");
        await AdminAsync($"CREATE DATABASE {Quoted(database)}");
    }

    public async Task DropAsync(string database) => await AdminAsync($"DROP DATABASE IF EXISTS {Quoted(database)} WITH (FORCE)");

    /// <summary>Makes database <paramref name="database"/> unless it exists (a seeded catalog is kept between runs).</summary>
    public async Task EnsureAsync(string database)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = database } } };
        if (await exists.ExecuteScalarAsync() is null)
            await AdminAsync($"CREATE DATABASE {Quoted(database)}");
    }

    /// <summary>One value of one query in <paramref name="database"/>.</summary>
    public async Task<T> ScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Runs one statement in <paramref name="database"/>; the rows it affected.</summary>
    public async Task<int> ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>Waits until the neighbour-list worker has applied every queued change; the seconds it took.</summary>
    public async Task<double> ListsAppliedAsync(string database, ServiceProcess? service = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (await ScalarAsync<long>(database, "SELECT count(*) FROM similar_list_queue") > 0)
        {
            service?.ThrowIfExited();
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        return watch.Elapsed.TotalSeconds;
    }

    async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    static string Quoted(string database) =>
        database.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_') ? database
            : throw new ArgumentException($"'{database}' is not a benchmark database's name.", nameof(database));
}
