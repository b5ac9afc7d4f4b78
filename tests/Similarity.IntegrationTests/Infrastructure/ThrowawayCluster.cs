using Npgsql;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of one test's own — initdb into a temp folder, its own loopback port, run as the
/// postgres user like similarity.sh does — for faults no shared cluster may suffer (a restart). pgvector is
/// installed for the server, so the service migrates it like any other.
/// </summary>
public sealed class ThrowawayCluster : IAsyncDisposable
{
    const string Bin = "/usr/lib/postgresql/15/bin";
    readonly string _folder;

    ThrowawayCluster(string folder, string connectionString) => (_folder, ConnectionString) = (folder, connectionString);

    /// <summary>The server's connection string (database <c>postgres</c>).</summary>
    public string ConnectionString { get; }

    string Data => Path.Combine(_folder, "data");

    public static async Task<ThrowawayCluster> StartAsync()
    {
        var folder = Directory.CreateTempSubdirectory("similarity-pg-").FullName;
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await File.WriteAllTextAsync(Path.Combine(folder, "password"), password);
        if (Environment.UserName == "root")
            await ClusterProcesses.RunAsync("chown", "-R", "postgres:postgres", folder);
        var port = ClusterProcesses.FreePort();
        await ClusterProcesses.RunAsPostgresAsync($"{Bin}/initdb", "-D", Path.Combine(folder, "data"), "-U", "postgres", "--pwfile", Path.Combine(folder, "password"),
            "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8");
        await File.AppendAllTextAsync(Path.Combine(folder, "data", "postgresql.conf"), $"""

            listen_addresses = '127.0.0.1'
            port = {port}
            unix_socket_directories = '{folder}'
            max_connections = 50
            shared_buffers = 32MB
            fsync = off
            """);
        var cluster = new ThrowawayCluster(folder, $"Host=127.0.0.1;Port={port};Username=postgres;Password={password};Database=postgres");
        await cluster.CtlAsync("start");
        return cluster;
    }

    /// <summary>Stops the server (fast: every session is ended, 57P01) and starts it again; returns once it accepts connections.</summary>
    public Task RestartAsync() => CtlAsync("restart", "-m", "fast");

    Task CtlAsync(params string[] args) =>
        ClusterProcesses.RunAsPostgresAsync($"{Bin}/pg_ctl", ["-D", Data, "-l", Path.Combine(_folder, "server.log"), "-w", "-t", "60", .. args]);

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await CtlAsync("stop", "-m", "immediate");
        Directory.Delete(_folder, recursive: true);
    }
}
