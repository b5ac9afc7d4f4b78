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
    /// The pooled <see cref="NpgsqlDataSource"/> with pgvector mapped (the primary, see <see cref="DatabaseHosts"/>), its
    /// resetless twin for reads (<see cref="ReadsKey"/>, standbys first), the standbys' watch, the duties' leadership,
    /// the migrations, run at start before any request is served, and a 503 for a database that is down.
    /// </summary>
    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<StandbyRotation>();
        builder.Services.AddSingleton(DatabaseHosts.Create);
        builder.Services.AddSingleton(services => services.GetRequiredService<DatabaseHosts>().Primary);
        builder.Services.AddKeyedSingleton(ReadsKey, (services, _) => services.GetRequiredService<DatabaseHosts>().Reads);
        builder.Services.AddSingleton<StandbyWatch>();
        builder.Services.AddHostedService(services => services.GetRequiredService<StandbyWatch>());
        builder.Services.AddSingleton<ServedBy>();
        builder.Services.AddSingleton<Leadership>();
        builder.Services.AddSingleton(services => new DatabaseMigrator(services.GetRequiredService<DatabaseHosts>().Migrations,
            services.GetRequiredService<ILogger<DatabaseMigrator>>()));
        builder.Services.AddHostedService<DatabaseMigrator.AtStartup>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [HealthTags.Ready]);
        builder.Services.AddExceptionHandler<DatabaseUnavailableHandler>();
        builder.Services.ConfigureSwaggerGen(options => options.OperationFilter<ConsistencyOpenApi>());
        return builder;
    }
}
