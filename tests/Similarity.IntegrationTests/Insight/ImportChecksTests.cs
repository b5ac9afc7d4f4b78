using System.Net;
using System.Net.Http.Json;
using Similarity.Insight;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Insight;

/// <summary>
/// An import into the insight catalog whose rows each trip one catalog check: the job stores every row, and its
/// result and <c>GET /imports/{id}/checks</c> (JSON and CSV) say what each check found.
/// Each test imports its own SKUs (prefix <c>p</c>).
/// </summary>
public sealed class ImportChecksTests(InsightCatalog catalog) : IClassFixture<InsightCatalog>
{
    const string Boilerplate = "Great quality and fast shipping.";

    static string Row(string sku, string title, string? description, string category, string? image) =>
        $"{sku},{title},{description},{category},acme,12.50,EUR,true,{image}";

    async Task<Guid> ImportAsync(HttpClient client, string p)
    {
        var rows = new List<string>
        {
            "sku,title,description,category,brand,price,currency,available,image",
            Row($"{p}imp-copy", catalog.Original("food-2").Title, null, "food", "copy.png"),
            Row($"{p}imp-nopic", "plain paper notebook", "A ruled notebook.", "office", null),
            Row($"{p}imp-small", "tiny stamp", "A small stamp.", "office", "small.png"),
            Row($"{p}imp-swapped", catalog.Original("animals-2").Title, null, "animals", "swapped.png"),
        };
        rows.AddRange(Enumerable.Range(0, 5).Select(i => Row($"{p}imp-boiler-{i}", $"boilerplate item {i}", Boilerplate, "tools", $"boiler-{i}.png")));
        rows.AddRange(Enumerable.Range(0, 5).Select(i => Row($"{p}imp-title-{i}", "Mystery gadget", $"Gadget number {i}.", "tools", $"title-{i}.png")));
        var drawings = Clipart.Drawings("computer", 10);
        var zip = ImportClient.Zip([
            ("copy.png", TestImages.Resized(catalog.Original("food-2").Image!, 180, ".png")),
            ("small.png", TestImages.Resized(catalog.Original("tools-6").Image!, 20, ".png")),
            ("swapped.png", catalog.Original("buildings-3").Image!),
            .. drawings.Take(5).Select((p, i) => ($"boiler-{i}.png", File.ReadAllBytes(p))),
            .. drawings.Skip(5).Select((p, i) => ($"title-{i}.png", File.ReadAllBytes(p))),
        ]);
        var job = await client.StartAsync(ImportClient.Form(string.Join('\n', rows) + "\n", "catalog.csv", zip));
        var ended = await client.WaitForEndAsync(job.Id);
        Assert.True(ended.Status == "succeeded", $"{ended.Status}: {await client.GetStringAsync($"/imports/{job.Id}/errors")}");
        Assert.Equal(rows.Count - 1, ended.Counts.Inserted); // checks never reject a row
        return job.Id;
    }

    [Fact]
    public async Task Each_check_finds_the_rows_that_trip_it_and_the_job_counts_them()
    {
        var client = catalog.CreateAdminClient();
        var id = await ImportAsync(client, "a-");

        var job = (await client.GetFromJsonAsync<Similarity.Imports.ImportsApi.JobResponse>($"/imports/{id}"))!;
        var checks = (await client.GetFromJsonAsync<ImportChecksApi.ImportChecksResponse>($"/imports/{id}/checks"))!.Checks;
        string[] Of(string kind) => [.. checks.Where(c => c.Kind == kind).Select(c => c.Sku).Order(StringComparer.Ordinal)];

        var duplicate = Assert.Single(checks, c => c.Kind == ImportCheckKind.Duplicate && c.Sku == "a-imp-copy");
        Assert.Contains("food-2", duplicate.Related);
        Assert.Equal(["a-imp-nopic"], Of(ImportCheckKind.NoPicture));
        Assert.Equal(["a-imp-small"], Of(ImportCheckKind.SmallPicture));
        Assert.Equal([.. Enumerable.Range(0, 5).Select(i => $"a-imp-title-{i}")], Of(ImportCheckKind.RepeatedTitle));
        // Five share one description; imp-copy and imp-swapped have none. The others' descriptions are their own.
        Assert.Equal([.. Enumerable.Range(0, 5).Select(i => $"a-imp-boiler-{i}"), "a-imp-copy", "a-imp-swapped"], Of(ImportCheckKind.BoilerplateDescription));
        Assert.Contains("a-imp-swapped", Of(ImportCheckKind.Mismatch));
        Assert.DoesNotContain("a-imp-copy", Of(ImportCheckKind.Mismatch));

        Assert.NotNull(job.Checks);
        Assert.Equal((Of(ImportCheckKind.Duplicate).Length, Of(ImportCheckKind.Mismatch).Length, 1, 1, 7, 5, checks.Count),
            (job.Checks.Duplicate, job.Checks.Mismatch, job.Checks.NoPicture, job.Checks.SmallPicture, job.Checks.BoilerplateDescription, job.Checks.RepeatedTitle, job.Checks.Total));
        Assert.Equal($"/imports/{id}/checks", job.Checks.List);
    }

    [Fact]
    public async Task The_checks_page_by_kind_and_come_as_CSV()
    {
        var client = catalog.CreateAdminClient();
        var id = await ImportAsync(client, "b-");

        var first = (await client.GetFromJsonAsync<ImportChecksApi.ImportChecksResponse>($"/imports/{id}/checks?kind=repeatedTitle&limit=3"))!;
        var rest = (await client.GetFromJsonAsync<ImportChecksApi.ImportChecksResponse>($"/imports/{id}/checks?kind=repeatedTitle&after={first.NextAfter}&limit=3"))!;
        Assert.Equal(3, first.NextAfter);
        Assert.Null(rest.NextAfter);
        Assert.Equal([.. Enumerable.Range(0, 5).Select(i => $"b-imp-title-{i}")], first.Checks.Concat(rest.Checks).Select(c => c.Sku));

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/imports/{id}/checks?kind=smallPicture");
        request.Headers.Accept.ParseAdd("text/csv");
        var csv = await (await client.SendAsync(request)).Content.ReadAsStringAsync();
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("kind,sku,detail,related,score", lines[0]);
        Assert.StartsWith("smallPicture,b-imp-small,", lines[1], StringComparison.Ordinal);
        Assert.Equal(2, lines.Length);
    }

    [Fact]
    public async Task An_unknown_job_is_a_404_and_an_unknown_kind_a_problem_naming_it()
    {
        var client = catalog.CreateAdminClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/imports/{Guid.NewGuid()}/checks")).StatusCode);
        await CatalogClient.AssertNamesFieldAsync(await client.GetAsync($"/imports/{Guid.NewGuid()}/checks?kind=typo"), "kind");
    }

}
