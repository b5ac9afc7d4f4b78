using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>Forty items with pictures and words, so that ranking by picture and ranking by words disagree.</summary>
public sealed class InterleavingCatalog : SimilarityApp
{
    public const string Query = "il-00";
    static readonly string[] Words = ["red", "blue", "green", "cotton", "wool", "leather", "soft", "classic", "modern", "vintage", "mug", "lamp"];

    /// <summary>
    /// No neighbour lists: every answer comes from the index, so a plain page before and after an experiment is the
    /// same page (one answered from a list the worker finished in between could differ in its tail).
    /// </summary>
    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Search:ListSize", "0")];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var random = new Random(11);
        var client = CreateAdminClient();
        var items = Enumerable.Range(0, 40).Select(i => new TestItem($"il-{i:D2}",
            string.Join(' ', Enumerable.Range(0, 4).Select(_ => Words[random.Next(Words.Length)])), Image: TestImages.Noise(40, 40, seed: 500 + i)));
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (item, _) => await client.PutItemAsync(item));
        await StartAsync();
    }
}

/// <summary>
/// GET /similar/{sku} on an experiment's share: the page is a team-draft interleaving of the two sides' rankings, each
/// read from the service before the experiment started; a stopped experiment interleaves nothing.
/// </summary>
public sealed class InterleavedSimilarTests(InterleavingCatalog app) : IClassFixture<InterleavingCatalog>
{
    const string ByPicture = "?k=10&imageWeight=1&textWeight=0", ByWords = "?k=10&imageWeight=0&textWeight=1";

    static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    static async Task<string[]> SkusAsync(HttpClient client, string query) =>
        [.. (await client.SimilarAsync(InterleavingCatalog.Query, query)).Results.Select(r => r.Sku)];

    /// <summary>
    /// Whether <paramref name="page"/> can come out of team draft on rankings a and b: at each position the team with
    /// fewer picks (either, when even) adds its best item not yet on the page. Tried both ways where a pick is ambiguous.
    /// </summary>
    static bool IsTeamDraft(string[] page, string[] a, string[] b, int at = 0, int picksA = 0, int picksB = 0)
    {
        if (at == page.Length)
            return true;
        var taken = page[..at].ToHashSet();
        var nextA = a.FirstOrDefault(s => !taken.Contains(s));
        var nextB = b.FirstOrDefault(s => !taken.Contains(s));
        if (nextA is null || nextB is null)
            return false; // team draft stops when a side has nothing left
        return (picksA <= picksB && page[at] == nextA && IsTeamDraft(page, a, b, at + 1, picksA + 1, picksB))
            || (picksB <= picksA && page[at] == nextB && IsTeamDraft(page, a, b, at + 1, picksA, picksB + 1));
    }

    [Fact]
    public async Task At_share_one_every_answer_interleaves_both_sides_and_a_stopped_experiment_none()
    {
        var client = app.CreateClient();
        var plain = await SkusAsync(client, "?k=10");
        var byPicture = await SkusAsync(client, ByPicture);
        var byWords = await SkusAsync(client, ByWords);
        Assert.NotEqual(byPicture, byWords); // else there is nothing to interleave
        var admin = app.CreateAdminClient();
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/experiments/picture-or-words",
            Json("""{"control": {"imageWeight": 1}, "treatment": {"textWeight": 1}, "share": 1}"""))).StatusCode);

        var pages = new List<string[]>();
        for (var i = 0; i < 12; i++)
            pages.Add(await SkusAsync(client, "?k=10"));

        Assert.All(pages, page => Assert.Equal(10, page.Length));
        Assert.All(pages, page => Assert.True(IsTeamDraft(page, byPicture, byWords), $"not a team draft: {string.Join(' ', page)}"));
        Assert.Contains(pages, page => !page.SequenceEqual(byPicture) && !page.SequenceEqual(byWords));
        Assert.True(pages.Select(p => string.Join(' ', p)).Distinct().Count() > 1, "each request tosses its own coins");

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/experiments/picture-or-words")).StatusCode);
        Assert.Equal(plain, await SkusAsync(client, "?k=10"));
    }

    [Fact]
    public async Task The_served_row_of_an_interleaved_answer_names_the_experiment_and_a_team_per_position()
    {
        var admin = app.CreateAdminClient();
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/experiments/served-teams",
            Json("""{"control": {"imageWeight": 1}, "treatment": {"textWeight": 1}, "share": 1}"""))).StatusCode);
        var response = await app.CreateClient().GetAsync($"/similar/{InterleavingCatalog.Query}?k=10");
        var requestId = Guid.Parse(response.Headers.GetValues("X-Request-Id").Single());
        var answer = (await response.Content.ReadFromJsonAsync<Similarity.Similar.SimilarApi.SimilarResponse>())!;
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/experiments/served-teams")).StatusCode);

        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        (string Experiment, string Arm, string Teams, string[] Skus)? row = null;
        while (row is null && DateTime.UtcNow < deadline)
        {
            await using var command = db.CreateCommand("SELECT experiment, arm, teams, skus FROM served_lists WHERE request_id = $1");
            command.Parameters.Add(new() { Value = requestId });
            await using var reader = await command.ExecuteReaderAsync();
            if (await reader.ReadAsync())
                row = (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<string[]>(3));
            else
                await Task.Delay(50); // the served log writes in batches off the request path
        }

        Assert.NotNull(row);
        Assert.Equal(("served-teams", "interleaved"), (row.Value.Experiment, row.Value.Arm));
        Assert.Equal(answer.Results.Select(r => r.Sku), row.Value.Skus);
        Assert.Matches("^[AB]{10}$", row.Value.Teams);
        Assert.InRange(row.Value.Teams.Count(t => t == 'A'), 5, 5);
    }
}
