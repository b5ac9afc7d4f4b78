using Microsoft.Extensions.Options;
using Npgsql;

namespace Similarity.Database;

/// <summary>
/// The service's two data sources over one or several hosts. With one host (the default) both go to it, as they always
/// did. With several (<c>Host=h1:5501,h2:5502,h3:5503</c>) the primary data source (writes, jobs, locks, LISTEN)
/// targets the primary, wherever a failover put it, and the reads prefer standbys, load balanced, skipping any that
/// <see cref="StandbyRotation"/> has left out (too far behind); with no standby left they go to the primary.
/// </summary>
public sealed class DatabaseHosts : IAsyncDisposable
{
    readonly NpgsqlDataSource[] _owned;

    DatabaseHosts(NpgsqlDataSource primary, NpgsqlDataSource reads, NpgsqlDataSource migrations, IReadOnlyList<(string Host, int Port)> hosts,
        NpgsqlDataSource[] owned) =>
        (Primary, Reads, Migrations, Hosts, _owned) = (primary, reads, migrations, hosts, owned);

    public NpgsqlDataSource Primary { get; }

    /// <summary>The storefront's reads (<see cref="DatabaseExtensions.ReadsKey"/>).</summary>
    public NpgsqlDataSource Reads { get; }

    /// <summary>
    /// Where the migrations run. With several hosts, a primary-targeting source of their own without pooling: a
    /// multi-host source keeps the types it loaded per host, and <c>ReloadTypes</c> after the migration that creates
    /// the vector extension does not reach them, so the service's sources must first connect after the migrations.
    /// </summary>
    public NpgsqlDataSource Migrations { get; }

    /// <summary>Every host the connection string lists, in its order.</summary>
    public IReadOnlyList<(string Host, int Port)> Hosts { get; }

    public bool HasStandbys => Hosts.Count > 1;

    internal static DatabaseHosts Create(IServiceProvider services)
    {
        var connectionString = ConnectionString(services.GetRequiredService<IConfiguration>());
        var loggers = services.GetRequiredService<ILoggerFactory>();
        var hosts = HostsOf(connectionString);
        if (hosts.Count == 1)
        {
            NpgsqlDataSource single = Builder(connectionString, loggers, forReads: false).Build(), reads = Builder(connectionString, loggers, forReads: true).Build();
            return new DatabaseHosts(single, reads, single, hosts, [single, reads]);
        }
        var rotation = services.GetRequiredService<StandbyRotation>();
        var maxLag = services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MaxStandbyLag;
        var primary = Builder(connectionString, loggers, forReads: false).BuildMultiHost();
        var readsBuilder = Builder(connectionString, loggers, forReads: true);
        readsBuilder.ConnectionStringBuilder.LoadBalanceHosts = true;
        // A standby left out of the rotation refuses the new connection as a transient fault: Npgsql then marks the host
        // offline for Host Recheck Seconds, drops its idle connections and takes the next host (the primary last).
        readsBuilder.UsePhysicalConnectionInitializer(
            connection => Refuse(rotation, connection, maxLag),
            connection => { Refuse(rotation, connection, maxLag); return Task.CompletedTask; });
        var readsHosts = readsBuilder.BuildMultiHost();
        var migrations = new NpgsqlDataSourceBuilder(connectionString) { ConnectionStringBuilder = { Pooling = false } }.BuildMultiHost();
        return new DatabaseHosts(primary.WithTargetSession(TargetSessionAttributes.Primary),
            readsHosts.WithTargetSession(TargetSessionAttributes.PreferStandby), migrations.WithTargetSession(TargetSessionAttributes.Primary),
            hosts, [primary, readsHosts, migrations]);
    }

    static void Refuse(StandbyRotation rotation, NpgsqlConnection connection, TimeSpan maxLag)
    {
        if (connection.Host is { } host && !rotation.Allows(host, connection.Port, maxLag))
            throw new NpgsqlException($"The standby {host}:{connection.Port} is left out of the reads (behind the primary).",
                new TimeoutException("standby behind"));
    }

    internal static string ConnectionString(IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(DatabaseExtensions.ConnectionStringName);
        return string.IsNullOrWhiteSpace(connectionString)
            ? throw new InvalidOperationException(
                $"ConnectionStrings:{DatabaseExtensions.ConnectionStringName} is not set (environment: ConnectionStrings__{DatabaseExtensions.ConnectionStringName}).")
            : connectionString;
    }

    /// <summary>The hosts of a connection string, each with its port (its own, or the string's <c>Port</c>).</summary>
    public static IReadOnlyList<(string Host, int Port)> HostsOf(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return (builder.Host ?? "localhost").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.LastIndexOf(':') is var colon and > 0 && int.TryParse(entry[(colon + 1)..], out var port)
                ? (entry[..colon], port)
                : (entry, builder.Port))
            .ToList();
    }

    /// <summary>A connection string for one of the hosts alone, for reading its role and replay position.</summary>
    public static string ForHost(string connectionString, string host, int port) =>
        new NpgsqlConnectionStringBuilder(connectionString)
        {
            Host = host, Port = port, TargetSessionAttributes = null, LoadBalanceHosts = false, MaxPoolSize = 4,
            ApplicationName = "similarity-standby-watch",
        }.ConnectionString;

    static NpgsqlDataSourceBuilder Builder(string connectionString, ILoggerFactory loggers, bool forReads)
    {
        var dataSource = new NpgsqlDataSourceBuilder(connectionString);
        // The service runs a handful of fixed statements on every request: let Npgsql prepare them,
        // unless the connection string says otherwise.
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
            dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
        if (forReads)
        {
            dataSource.ConnectionStringBuilder.NoResetOnClose = true;
            dataSource.ConnectionStringBuilder.ApplicationName ??= "similarity-reads";
        }
        dataSource.UseVector();
        dataSource.UseLoggerFactory(loggers);
        return dataSource;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var dataSource in _owned)
            await dataSource.DisposeAsync();
    }
}
