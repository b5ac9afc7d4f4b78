using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Models;
using static Similarity.IntegrationTests.Operations.ModelSetTesting;

namespace Similarity.IntegrationTests.Operations;

/// <summary>
/// An activation that fails at its end: the in-memory switch follows the database, so while the commit is under way,
/// and after it failed, the live set is the one the database says; every <see cref="IModelActivationParticipant"/>
/// runs inside the switch's transaction, and one that fails undoes the whole switch.
/// </summary>
public sealed class ModelActivationFaultTests
{
    [Fact]
    public async Task A_switch_whose_commit_fails_never_shows_the_uncommitted_set_and_leaves_the_live_one()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();
        var liveName = await LiveNameAsync(admin);
        await DeployAndEmbedAsync(admin);
        var models = app.Services.GetRequiredService<ModelSets>();

        await using (var commit = await CommitGate.CloseAsync(app.Database))
        {
            var activation = admin.PostAsync($"/models/{Candidate}/activate", null);
            await commit.WaitUntilHeldAsync();
            Assert.Equal(liveName, models.Live.Name); // the commit is under way: nothing committed, nothing switched
            await commit.OpenAsync();
            Assert.False((await activation).IsSuccessStatusCode);
        }
        Assert.Equal(liveName, models.Live.Name);
        Assert.Equal((Candidate, "ready"), (models.Standby?.Set.Name, models.Standby?.Status));
        var listed = await ModelsAsync(admin);
        Assert.Equal("live", SetNamed(listed, liveName).GetProperty("status").GetString());
        Assert.Equal("ready", SetNamed(listed, Candidate).GetProperty("status").GetString());

        // Nothing was left held: the same switch goes through once the fault is gone.
        await ActivateAsync(app, admin, Candidate);
        Assert.Equal(Candidate, models.Live.Name);
    }

    [Fact]
    public async Task Participants_run_inside_the_switchs_transaction_and_one_that_fails_undoes_it()
    {
        var participant = new Participant { Fails = true };
        await using var app = await StartWithCatalogAsync(services: s => s.AddSingleton<IModelActivationParticipant>(participant));
        var admin = app.CreateAdminClient();
        var liveName = await LiveNameAsync(admin);
        var fingerprint = (await DeployAndEmbedAsync(admin)).GetProperty("fingerprint").GetString()!;
        var models = app.Services.GetRequiredService<ModelSets>();

        Assert.False((await admin.PostAsync($"/models/{Candidate}/activate", null)).IsSuccessStatusCode);
        Assert.Equal(ModelStatus.Live, participant.SawCandidateAs); // it ran after the statuses swapped, inside the transaction
        Assert.Equal(liveName, models.Live.Name);
        Assert.Equal("live", SetNamed(await ModelsAsync(admin), liveName).GetProperty("status").GetString());
        Assert.Equal(0L, await app.Database.ExecuteAsync($"SELECT count(*) FROM items WHERE fingerprint = '{fingerprint}'")); // the columns did not swap

        (participant.Fails, participant.SawCandidateAs) = (false, null);
        await ActivateAsync(app, admin, Candidate);
        Assert.Equal(ModelStatus.Live, participant.SawCandidateAs);
        Assert.Equal(fingerprint, (await admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/items/ml-00")).GetProperty("fingerprint").GetString());
    }

    /// <summary>Reads the candidate's status within the switch's transaction; fails after that when told to.</summary>
    sealed class Participant : IModelActivationParticipant
    {
        public volatile bool Fails;
        public volatile string? SawCandidateAs;

        public async Task OnActivatingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
        {
            await using var command = new NpgsqlCommand("SELECT status FROM model_sets WHERE name = @name", connection, transaction);
            command.Parameters.AddWithValue("name", Candidate);
            SawCandidateAs = (string?)await command.ExecuteScalarAsync(ct);
            if (Fails)
                throw new InvalidOperationException("a participant that cannot redo its state");
        }
    }

    /// <summary>
    /// A deferred trigger on <c>model_sets</c>, so it runs within the switch's COMMIT: it waits for an advisory lock
    /// the gate's own connection holds, then fails the commit.
    /// </summary>
    sealed class CommitGate(NpgsqlConnection connection) : IAsyncDisposable
    {
        const long Key = 77_002;
        bool _open;

        public static async Task<CommitGate> CloseAsync(TestDatabase database)
        {
            var connection = await database.OpenAsync();
            await ExecuteAsync(connection, $"""
                SELECT pg_advisory_lock({Key});
                CREATE FUNCTION hold_switch_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM set_config('lock_timeout', '0', true);
                    PERFORM pg_advisory_xact_lock_shared({Key});
                    RAISE EXCEPTION 'injected fault at the switch''s commit';
                END $$;
                CREATE CONSTRAINT TRIGGER hold_switch_commit AFTER UPDATE ON model_sets
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hold_switch_commit();
                """);
            return new CommitGate(connection);
        }

        /// <summary>Waits, polling the server's own view, until the switch's commit waits at the gate.</summary>
        public async Task WaitUntilHeldAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            await using var command = new NpgsqlCommand(
                $"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = {Key} AND NOT granted", connection);
            while ((long)(await command.ExecuteScalarAsync())! == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the switch's commit did not reach the gate in 60 s");
                await Task.Delay(20);
            }
        }

        public async Task OpenAsync()
        {
            if (_open)
                return;
            _open = true;
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({Key})");
        }

        public async ValueTask DisposeAsync()
        {
            await OpenAsync();
            await ExecuteAsync(connection, "DROP TRIGGER hold_switch_commit ON model_sets; DROP FUNCTION hold_switch_commit();");
            await connection.DisposeAsync();
        }

        static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}
