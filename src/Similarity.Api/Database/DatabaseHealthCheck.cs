using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Similarity.Database;

/// <summary>Ready means: the database answers, every migration is applied and the vector extension is there.</summary>
internal sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand("""
                SELECT (SELECT coalesce(max(version), 0) FROM schema_migrations),
                       (SELECT extversion FROM pg_extension WHERE extname = 'vector')
                """, connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var version = reader.GetInt32(0);
            var vector = reader.IsDBNull(1) ? null : reader.GetString(1);
            var data = new Dictionary<string, object> { ["schemaVersion"] = version, ["vectorExtension"] = vector ?? "missing" };
            if (version < DatabaseMigrator.LatestVersion)
                return HealthCheckResult.Unhealthy($"Schema version {version}, expected {DatabaseMigrator.LatestVersion}.", data: data);
            if (vector is null)
                return HealthCheckResult.Unhealthy("The vector extension is not installed.", data: data);
            return HealthCheckResult.Healthy("Reachable, migrated, vector present.", data);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("The database is not reachable.", ex);
        }
    }
}
