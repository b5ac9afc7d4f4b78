using Npgsql;

namespace Similarity.Database;

/// <summary>
/// Applies the embedded <c>Migrations/NNNN_name.sql</c> files in order, each exactly once and inside its own
/// transaction, under an advisory lock so two instances starting together never race.
/// </summary>
public sealed partial class DatabaseMigrator(NpgsqlDataSource dataSource, ILogger<DatabaseMigrator> logger)
{
    // Any constant shared by all instances of the service; "SIMILAR" in ASCII.
    const long AdvisoryLockKey = 0x53494D494C4152;

    public sealed record Migration(int Version, string Name, string Sql);

    public static IReadOnlyList<Migration> All { get; } = LoadEmbedded();

    public static int LatestVersion => All[^1].Version;

    /// <summary>Applies what is pending; returns how many migrations ran.</summary>
    public async Task<int> ApplyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await Execute(connection, $"SELECT pg_advisory_lock({AdvisoryLockKey})", cancellationToken);
        try
        {
            await Execute(connection, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, cancellationToken);
            var current = await CurrentVersionAsync(connection, cancellationToken);
            if (current > LatestVersion)
                throw new InvalidOperationException(
                    $"The database is at schema version {current}, newer than this build knows ({LatestVersion}). " +
                    "Refusing to start: deploy a build at least as new as the one that migrated it.");

            var applied = 0;
            foreach (var migration in All.Where(m => m.Version > current))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var command = new NpgsqlCommand(migration.Sql, connection, transaction) { CommandTimeout = 0 })
                    await command.ExecuteNonQueryAsync(cancellationToken);
                await using (var record = new NpgsqlCommand(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", connection, transaction))
                {
                    record.Parameters.Add(new() { Value = migration.Version });
                    record.Parameters.Add(new() { Value = migration.Name });
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
                LogApplied(migration.Version, migration.Name);
                applied++;
            }

            // The first migration creates the vector extension; without a reload, connections that loaded
            // their types earlier would not know how to read or write `vector` columns.
            if (applied > 0)
                await connection.ReloadTypesAsync(cancellationToken);
            return applied;
        }
        finally
        {
            await Execute(connection, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    public static async Task<int> CurrentVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_migrations", connection);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static List<Migration> LoadEmbedded()
    {
        var assembly = typeof(DatabaseMigrator).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("Migrations.", StringComparison.Ordinal)))
        {
            // Migrations.0001_catalog.sql → version 1, name "catalog"
            var file = Path.GetFileNameWithoutExtension(resource["Migrations.".Length..]);
            var separator = file.IndexOf('_', StringComparison.Ordinal);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            migrations.Add(new Migration(int.Parse(file[..separator], System.Globalization.CultureInfo.InvariantCulture), file[(separator + 1)..], reader.ReadToEnd()));
        }
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
                throw new InvalidOperationException($"Migration versions must run 1, 2, 3, ... without gaps; found {migrations[i].Version} at position {i + 1}.");
        }
        return migrations;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Version} ({Name})")]
    partial void LogApplied(int version, string name);

    /// <summary>Runs the migrations before the server takes requests.</summary>
    internal sealed class AtStartup(DatabaseMigrator migrator) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => migrator.ApplyAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
