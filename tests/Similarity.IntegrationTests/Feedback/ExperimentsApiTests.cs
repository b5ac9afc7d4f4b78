using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Similarity.Feedback;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>/experiments: started, read, listed, stopped, refused with the field named; and the credit of a fixed script of clicks.</summary>
public sealed class ExperimentsApiTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    NpgsqlDataSource Database => app.Services.GetRequiredService<NpgsqlDataSource>();

    static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    async Task<ExperimentsApi.ExperimentResponse> GetAsync(string name) =>
        (await app.CreateAdminClient().GetFromJsonAsync<ExperimentsApi.ExperimentResponse>($"/experiments/{name}"))!;

    [Fact]
    public async Task An_experiment_is_started_read_listed_replaced_and_stopped_with_its_results_kept()
    {
        var admin = app.CreateAdminClient();

        var created = await admin.PutAsync("/experiments/blend-on", Json("""{"control": {"blend": 0}, "treatment": {"blend": 0.3, "diversity": 0.2}, "share": 0.1}"""));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/experiments/blend-on", created.Headers.Location?.OriginalString);
        var started = await GetAsync("blend-on");
        Assert.Equal(("running", 0.1, 0.0, 0.3, 0.2), (started.Status, started.Share, started.Control.Blend!.Value, started.Treatment.Blend!.Value,
            started.Treatment.Diversity!.Value));
        Assert.Equal((0L, 0L, 0L, 0L, 0L), (started.Impressions, started.Clicks.Control, started.Clicks.Treatment, started.Wins.Control, started.Wins.Treatment));
        Assert.Null(started.WinRate);
        Assert.Null(started.Interval);
        Assert.Equal("undecided", started.Verdict);
        Assert.Null(started.StoppedAt);

        var replaced = await admin.PutAsync("/experiments/blend-on", Json("""{"control": {"blend": 0}, "treatment": {"blend": 1}, "share": 1}"""));
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal(1.0, (await GetAsync("blend-on")).Treatment.Blend);
        var listed = await admin.GetFromJsonAsync<ExperimentsApi.ExperimentsResponse>("/experiments");
        Assert.Single(listed!.Experiments, e => e.Name == "blend-on" && e.Status == "running");

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/experiments/blend-on")).StatusCode);
        var stopped = await GetAsync("blend-on");
        Assert.Equal("stopped", stopped.Status);
        Assert.NotNull(stopped.StoppedAt);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/experiments/blend-on")).StatusCode);
    }

    [Fact]
    public async Task An_unknown_experiment_is_404_and_the_routes_need_the_admin_key()
    {
        var admin = app.CreateAdminClient();
        var missing = await admin.GetAsync("/experiments/never-made");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("No such experiment.", JsonElement.Parse(await missing.Content.ReadAsStringAsync()).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/experiments/never-made")).StatusCode);

        var anonymous = app.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/experiments")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PutAsync("/experiments/x", Json("""{"control": {}, "treatment": {}, "share": 1}"""))).StatusCode);
    }

    [Theory]
    [InlineData("ok-name", """{"treatment": {"blend": 0.3}, "share": 0.1}""", "control")]
    [InlineData("ok-name", """{"control": {"blend": 0}, "share": 0.1}""", "treatment")]
    [InlineData("ok-name", """{"control": {"blend": 0}, "treatment": {"blend": 0.3}}""", "share")]
    [InlineData("ok-name", """{"control": {"blend": 0}, "treatment": {"blend": 0.3}, "share": 0}""", "share")]
    [InlineData("ok-name", """{"control": {"blend": 0}, "treatment": {"blend": 0.3}, "share": 1.5}""", "share")]
    [InlineData("ok-name", """{"control": {"blend": 0}, "treatment": {"blend": 11}, "share": 0.1}""", "treatment.blend")]
    [InlineData("ok-name", """{"control": {"imageWeight": 0, "textWeight": 0}, "treatment": {}, "share": 0.1}""", "control.imageWeight")]
    [InlineData("ok-name", """{"control": {"diversity": 2}, "treatment": {}, "share": 0.1}""", "control.diversity")]
    [InlineData("bad%20name", """{"control": {}, "treatment": {}, "share": 0.1}""", "name")]
    public async Task A_bad_experiment_is_a_validation_problem_naming_the_field(string name, string body, string field)
    {
        var response = await app.CreateAdminClient().PutAsync($"/experiments/{name}", Json(body));

        await CatalogClient.AssertNamesFieldAsync(response, field);
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateAdminClient().GetAsync("/experiments/ok-name")).StatusCode);
    }

    [Fact]
    public async Task An_unknown_ranking_parameter_in_a_side_is_refused_by_name()
    {
        var response = await app.CreateAdminClient().PutAsync("/experiments/typo", Json("""{"control": {"blends": 0}, "treatment": {}, "share": 0.1}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("blends", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clicks_credit_the_team_at_their_position_and_each_answer_is_won_by_the_side_with_more()
    {
        var admin = app.CreateAdminClient();
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/experiments/credit", Json("""{"control": {"blend": 0}, "treatment": {"blend": 0.5}, "share": 1}"""))).StatusCode);
        var db = Database;

        // 1: A B A B, clicks at 1 (A), 2 (B), 4 (B) → A 1, B 2: treatment wins.
        var r1 = await db.ServeAsync(4, "credit", "ABAB");
        await db.EngageAsync(r1, 1); await db.EngageAsync(r1, 2); await db.EngageAsync(r1, 4);
        // 2: B A B A, position 2 (A) clicked twice → A 1 (a position counts once): control wins.
        var r2 = await db.ServeAsync(4, "credit", "BABA");
        await db.EngageAsync(r2, 2); await db.EngageAsync(r2, 2);
        // 3: A B B A, clicks at 1 (A) and 2 (B) → a tie, no winner.
        var r3 = await db.ServeAsync(4, "credit", "ABBA");
        await db.EngageAsync(r3, 1); await db.EngageAsync(r3, 2);
        // 4: no click; an event past the list's end does not count.
        var r4 = await db.ServeAsync(2, "credit", "AB");
        await db.EngageAsync(r4, 5);
        // 5: a bot's click and a shopper's add to cart (not a click) at 1 (B): nothing credited.
        var r5 = await db.ServeAsync(2, "credit", "BA");
        await db.FlagBotAsync("bot-1");
        await db.EngageAsync(r5, 1, visitor: "bot-1"); await db.EngageAsync(r5, 1, type: "addToCart");
        // 6: a click at 2 (B): treatment wins.
        var r6 = await db.ServeAsync(2, "credit", "AB");
        await db.EngageAsync(r6, 2);
        // Not this experiment's: another experiment's answer, and one served before this experiment started.
        await db.EngageAsync(await db.ServeAsync(2, "other", "AB"), 1);
        await db.EngageAsync(await db.ServeAsync(2, "credit", "AB", at: DateTimeOffset.UtcNow.AddHours(-2)), 1);

        var result = await GetAsync("credit");

        Assert.Equal(6, result.Impressions);
        Assert.Equal((3L, 4L), (result.Clicks.Control, result.Clicks.Treatment));
        Assert.Equal((1L, 2L, 1L), (result.Wins.Control, result.Wins.Treatment, result.Ties));
        Assert.Equal(2.0 / 3, result.WinRate!.Value, 10);
        Assert.Equal(0.2077, result.Interval!.Low, 4); // Wilson 95% for 2 of 3
        Assert.Equal(0.9385, result.Interval.High, 4);
        Assert.Equal("undecided", result.Verdict); // 3 decided answers, far below the 100 needed
        var listed = await admin.GetFromJsonAsync<ExperimentsApi.ExperimentsResponse>("/experiments");
        Assert.Equal(6, listed!.Experiments.Single(e => e.Name == "credit").Impressions);
    }
}
