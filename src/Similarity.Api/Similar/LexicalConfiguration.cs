using Microsoft.Extensions.Options;
using Npgsql;

namespace Similarity.Similar;

/// <summary>
/// At start, after the migrations: holds the lexical index to <c>Similarity:Search:TextSearchConfig</c>. A configuration
/// PostgreSQL does not know fails the start, naming the key; a changed one re-indexes every item in one transaction
/// (the items trigger reads the configuration from <c>lexical_state</c>) and bumps the catalog revision, so cached
/// answers are not served from the old index.
/// </summary>
public sealed partial class LexicalConfiguration(NpgsqlDataSource dataSource, IOptions<SearchOptions> options, ILogger<LexicalConfiguration> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var config = options.Value.TextSearchConfig;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var known = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = @config)", connection, transaction))
        {
            known.Parameters.AddWithValue("config", config);
            if (!(bool)(await known.ExecuteScalarAsync(cancellationToken))!)
                throw new OptionsValidationException(SearchOptions.Section, typeof(SearchOptions),
                    [$"{SearchOptions.Section}:TextSearchConfig: PostgreSQL has no text search configuration '{config}' (see \\dF; simple and english are built in)."]);
        }
        await using var change = new NpgsqlCommand("""
            WITH changed AS (UPDATE lexical_state SET config = @config WHERE config <> @config RETURNING config),
            reindexed AS (
                UPDATE items SET lexical = lexical_document(@config::regconfig, title, brand, category, description, attributes)
                WHERE EXISTS (SELECT 1 FROM changed) RETURNING 1)
            UPDATE catalog_state SET revision = revision + 1 WHERE EXISTS (SELECT 1 FROM changed)
            RETURNING (SELECT count(*) FROM reindexed)
            """, connection, transaction) { CommandTimeout = 0 };
        change.Parameters.AddWithValue("config", config);
        if (await change.ExecuteScalarAsync(cancellationToken) is long items)
            LogReindexed(config, items);
        await transaction.CommitAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "The lexical index is now in text search configuration {Config}: {Items} items re-indexed")]
    partial void LogReindexed(string config, long items);
}
