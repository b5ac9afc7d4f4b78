using Npgsql;
using Similarity.Hosting;

namespace Similarity.Database;

public static class DatabaseExtensions
{
    public const string ConnectionStringName = "Similarity";

    /// <summary>
    /// The key of the data source for the storefront's reads (<c>/similar</c>, <c>/search</c>): its connections go
    /// back to the pool without a reset, because those reads leave no session state behind (their settings are
    /// transaction-local). The reset is a seven-statement round of work for PostgreSQL on every request.
    /// </summary>
    public const string ReadsKey = "reads";

    /// <summary>
    /// The pooled <see cref="NpgsqlDataSource"/> with pgvector mapped, its resetless twin for reads (<see cref="ReadsKey"/>),
    /// the migrations, run at start before any request is served, and a 503 for a database that is down.
    /// </summary>
    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(services => BuildDataSource(services, forReads: false));
        builder.Services.AddKeyedSingleton(ReadsKey, (services, _) => BuildDataSource(services, forReads: true));
        builder.Services.AddSingleton<DatabaseMigrator>();
        builder.Services.AddHostedService<DatabaseMigrator.AtStartup>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [HealthTags.Ready]);
        builder.Services.AddExceptionHandler<DatabaseUnavailableHandler>();
        return builder;
    }

    static NpgsqlDataSource BuildDataSource(IServiceProvider services, bool forReads)
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
        if (forReads)
        {
            dataSource.ConnectionStringBuilder.NoResetOnClose = true;
            dataSource.ConnectionStringBuilder.ApplicationName ??= "similarity-reads";
        }
        dataSource.UseVector();
        dataSource.UseLoggerFactory(services.GetRequiredService<ILoggerFactory>());
        return dataSource.Build();
    }
}
