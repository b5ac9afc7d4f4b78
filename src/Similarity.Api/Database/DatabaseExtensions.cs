using Npgsql;

namespace Similarity.Database;

public static class DatabaseExtensions
{
    public const string ConnectionStringName = "Similarity";

    /// <summary>One pooled <see cref="NpgsqlDataSource"/> with pgvector mapped, and the migrations run at start.</summary>
    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(services =>
        {
            var connectionString = services.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName);
            if (string.IsNullOrWhiteSpace(connectionString))
                throw new InvalidOperationException(
                    $"ConnectionStrings:{ConnectionStringName} is not set (environment: ConnectionStrings__{ConnectionStringName}).");
            var dataSource = new NpgsqlDataSourceBuilder(connectionString);
            // The service runs a handful of fixed statements on every request: let Npgsql prepare them,
            // unless the connection string says otherwise.
            if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
            dataSource.UseVector();
            dataSource.UseLoggerFactory(services.GetRequiredService<ILoggerFactory>());
            return dataSource.Build();
        });
        builder.Services.AddSingleton<DatabaseMigrator>();
        builder.Services.AddHostedService<DatabaseMigrator.AtStartup>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        return builder;
    }
}
