using Npgsql;
using Similarity.Database;

namespace Similarity.UnitTests.Database;

/// <summary>Which database faults a client sees as 503 (retry) rather than 500.</summary>
public sealed class DatabaseFaultsTests
{
    [Fact]
    public void A_multi_host_connection_that_finds_no_primary_during_a_failover_is_transient()
    {
        // Npgsql's own words when every host is down or a standby (none tried, or each one's failure gathered).
        Assert.True(DatabaseFaults.IsTransient(new NpgsqlException("No suitable host was found.")));
        Assert.True(DatabaseFaults.IsTransient(new NpgsqlException("Unable to connect to a suitable host. Check inner exception for more details.",
            new AggregateException(new NpgsqlException("Failed to connect to 127.0.0.1:5432")))));
    }

    [Fact]
    public void A_write_on_a_primary_being_demoted_is_transient()
    {
        // pg_auto_failover drains a primary by making its sessions read-only before it restarts it as a standby.
        Assert.True(DatabaseFaults.IsTransient(new PostgresException("cannot execute INSERT in a read-only transaction", "ERROR", "ERROR", "25006")));
        Assert.False(DatabaseFaults.IsTransient(new PostgresException("duplicate key value violates unique constraint", "ERROR", "ERROR", "23505")));
    }

    [Fact]
    public void Other_client_side_faults_without_a_transient_cause_are_not()
    {
        Assert.False(DatabaseFaults.IsTransient(new NpgsqlException("Received unexpected backend message")));
        Assert.False(DatabaseFaults.IsTransient(new InvalidOperationException("No suitable host was found.")));
    }
}
