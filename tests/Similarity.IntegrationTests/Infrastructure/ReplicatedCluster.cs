using Npgsql;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>
/// A primary and one hot standby of a test's own (PostgreSQL streaming replication on loopback: initdb, then
/// pg_basebackup with a standby.signal), for reads on standbys without the pg_auto_failover formation. Run as the
/// postgres user like similarity.sh does; pgvector is installed for the server, so both hosts have it.
/// </summary>
public sealed class ReplicatedCluster : IAsyncDisposable
{
    const string Bin = "/usr/lib/postgresql/15/bin";
    readonly string _folder, _password;

    ReplicatedCluster(string folder, string password, int primaryPort, int standbyPort) =>
        (_folder, _password, PrimaryPort, StandbyPort) = (folder, password, primaryPort, standbyPort);

    public int PrimaryPort { get; }
    public int StandbyPort { get; }

    /// <summary>The primary alone (database <c>postgres</c>): where test databases are created.</summary>
    public string PrimaryConnectionString => ConnectionString(PrimaryPort);

    /// <summary>The standby alone, for the test's own looks at it (replay position, conflicts).</summary>
    public string StandbyConnectionString => ConnectionString(StandbyPort);

    /// <summary>Both hosts, as a service configured for a formation lists them.</summary>
    public string MultiHost(string database) =>
        $"Host=127.0.0.1:{PrimaryPort},127.0.0.1:{StandbyPort};Username=postgres;Password={_password};Database={database}";

    string ConnectionString(int port) => $"Host=127.0.0.1;Port={port};Username=postgres;Password={_password};Database=postgres";

    public static async Task<ReplicatedCluster> StartAsync()
    {
        var folder = Directory.CreateTempSubdirectory("similarity-replicas-").FullName;
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await File.WriteAllTextAsync(Path.Combine(folder, "password"), password);
        if (Environment.UserName == "root")
            await ClusterProcesses.RunAsync("chown", "-R", "postgres:postgres", folder);
        var cluster = new ReplicatedCluster(folder, password, ClusterProcesses.FreePort(), ClusterProcesses.FreePort());
        await ClusterProcesses.RunAsPostgresAsync($"{Bin}/initdb", "-D", cluster.Data("primary"), "-U", "postgres", "--pwfile", Path.Combine(folder, "password"),
            "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8");
        await File.AppendAllTextAsync(Path.Combine(cluster.Data("primary"), "postgresql.conf"), cluster.Settings(cluster.PrimaryPort));
        await cluster.CtlAsync("primary", "start");

        await ClusterProcesses.RunAsPostgresAsync("env", $"PGPASSWORD={password}", $"{Bin}/pg_basebackup", "-D", cluster.Data("standby"), "-h", "127.0.0.1",
            "-p", cluster.PrimaryPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-X", "stream", "-R");
        await File.AppendAllTextAsync(Path.Combine(cluster.Data("standby"), "postgresql.conf"), cluster.Settings(cluster.StandbyPort));
        await File.AppendAllTextAsync(Path.Combine(cluster.Data("standby"), "postgresql.auto.conf"),
            $"\nprimary_conninfo = 'host=127.0.0.1 port={cluster.PrimaryPort} user=postgres password={password} application_name=standby'\n");
        await cluster.CtlAsync("standby", "start");
        return cluster;
    }

    string Data(string node) => Path.Combine(_folder, node);

    string Settings(int port) => $"""

        listen_addresses = '127.0.0.1'
        port = {port}
        unix_socket_directories = '{_folder}'
        max_connections = 60
        shared_buffers = 32MB
        fsync = off
        hot_standby = on
        hot_standby_feedback = on
        """;

    /// <summary>Runs SQL on the standby (a superuser session of the test's own), e.g. <c>SELECT pg_wal_replay_pause()</c>.</summary>
    public async Task<object?> OnStandbyAsync(string sql, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(StandbyConnectionString) { Database = database, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    Task CtlAsync(string node, params string[] args) =>
        ClusterProcesses.RunAsPostgresAsync($"{Bin}/pg_ctl", ["-D", Data(node), "-l", Path.Combine(_folder, node + ".log"), "-w", "-t", "60", .. args]);

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await CtlAsync("standby", "stop", "-m", "immediate");
        await CtlAsync("primary", "stop", "-m", "immediate");
        Directory.Delete(_folder, recursive: true);
    }
}
