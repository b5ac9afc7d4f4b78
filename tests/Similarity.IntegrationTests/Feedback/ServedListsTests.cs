using System.Net.Http.Json;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;
using static Similarity.IntegrationTests.Feedback.EventsClient;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>A dozen items, put through the API, to serve lists of.</summary>
public sealed class ServedCatalog : SimilarityApp
{
    public static string SkuOf(int i) => $"served-{i:D2}";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var client = CreateAdminClient();
        for (var i = 0; i < 12; i++)
            await client.PutItemAsync(new TestItem(SkuOf(i), $"{(i % 2 == 0 ? "red" : "blue")} cotton shirt {i}", "shirts"));
        await StartAsync();
    }
}

/// <summary>Every answer of the four list routes is named (requestId, X-Request-Id) and recorded in served_lists, off the request path.</summary>
public sealed class ServedListsTests(ServedCatalog app) : IClassFixture<ServedCatalog>
{
    sealed record ServedRow(string Endpoint, string? QuerySku, string? VisitorId, string Fingerprint, string? Arm, string[] Skus, float[] Scores);

    /// <summary>The rows recorded under <paramref name="requestId"/>, waited for until there are <paramref name="count"/>.</summary>
    async Task<List<ServedRow>> RowsAsync(Guid requestId, int count = 1)
    {
        var rows = new List<ServedRow>();
        await WaitForAsync(async () =>
        {
            rows.Clear();
            await using var connection = await app.Database.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT endpoint, query_sku, visitor_id, fingerprint, arm, skus, scores FROM served_lists WHERE request_id = $1 ORDER BY query_sku",
                connection) { Parameters = { new() { Value = requestId } } };
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                rows.Add(new(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<string[]>(5), reader.GetFieldValue<float[]>(6)));
            return rows.Count >= count;
        }, $"{count} served rows of {requestId}");
        return rows;
    }

    static Guid RequestIdOf(HttpResponseMessage response, System.Text.Json.JsonElement body)
    {
        var header = Guid.Parse(response.Headers.GetValues("X-Request-Id").Single());
        Assert.Equal(header, body.GetProperty("requestId").GetGuid());
        Assert.Equal(7, header.Version); // a UUIDv7
        return header;
    }

    async Task<string> FingerprintAsync() => (string)(await app.Database.ExecuteAsync("SELECT fingerprint FROM model_sets WHERE status = 'live'"))!;

    [Fact]
    public async Task Similar_records_the_query_item_the_visitor_and_the_results_in_order()
    {
        var response = await app.CreateClient().GetAsync($"/similar/{ServedCatalog.SkuOf(0)}?k=5&visitorId=v-served-1");
        var body = Json(await response.Content.ReadAsStringAsync());
        var requestId = RequestIdOf(response, body);

        var row = Assert.Single(await RowsAsync(requestId));

        Assert.Equal(("similar", ServedCatalog.SkuOf(0), "v-served-1", null as string), (row.Endpoint, row.QuerySku, row.VisitorId, row.Arm));
        Assert.Equal(body.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("sku").GetString()), row.Skus);
        Assert.Equal(body.GetProperty("results").EnumerateArray().Select(r => (float)r.GetProperty("score").GetDouble()), row.Scores);
        Assert.Equal(await FingerprintAsync(), row.Fingerprint);
    }

    [Fact]
    public async Task The_visitor_header_is_recorded_and_a_bad_visitor_id_is_a_400()
    {
        var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/similar/{ServedCatalog.SkuOf(1)}?k=3");
        request.Headers.Add("X-Visitor-Id", "v-from-header");
        var response = await client.SendAsync(request);
        var requestId = RequestIdOf(response, Json(await response.Content.ReadAsStringAsync()));

        var tooLong = await client.GetAsync($"/similar/{ServedCatalog.SkuOf(1)}?visitorId={new string('v', 129)}");

        Assert.Equal("v-from-header", Assert.Single(await RowsAsync(requestId)).VisitorId);
        await CatalogClient.AssertNamesFieldAsync(tooLong, "visitorId");
    }

    [Fact]
    public async Task A_batch_records_one_row_per_sku_answered_under_one_request_id()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/similar/batch?k=4&visitorId=v-batch",
            new { skus = new[] { ServedCatalog.SkuOf(2), ServedCatalog.SkuOf(3), "no-such-sku" } });
        var body = Json(await response.Content.ReadAsStringAsync());
        var requestId = RequestIdOf(response, body);

        var rows = await RowsAsync(requestId, count: 2);

        Assert.Equal([ServedCatalog.SkuOf(2), ServedCatalog.SkuOf(3)], rows.Select(r => r.QuerySku));
        Assert.All(rows, r => Assert.Equal(("batch", "v-batch", 4), (r.Endpoint, r.VisitorId, r.Skus.Length)));
        Assert.Equal(body.GetProperty("items")[0].GetProperty("results").EnumerateArray().Select(r => r.GetProperty("sku").GetString()), rows[0].Skus);
    }

    [Fact]
    public async Task Examples_and_search_record_their_lists()
    {
        var client = app.CreateClient();
        var examples = await client.PostAsJsonAsync("/similar?k=3", new { positive = new[] { ServedCatalog.SkuOf(4), ServedCatalog.SkuOf(6) } });
        var examplesBody = Json(await examples.Content.ReadAsStringAsync());
        var search = await client.PostAsync("/search?k=3&visitorId=v-search", new MultipartFormDataContent { { new StringContent("red shirt"), "text" } });
        var searchBody = Json(await search.Content.ReadAsStringAsync());

        var examplesRow = Assert.Single(await RowsAsync(RequestIdOf(examples, examplesBody)));
        var searchRow = Assert.Single(await RowsAsync(RequestIdOf(search, searchBody)));

        Assert.Equal(("examples", null as string, null as string), (examplesRow.Endpoint, examplesRow.QuerySku, examplesRow.VisitorId));
        Assert.Equal(examplesBody.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("sku").GetString()), examplesRow.Skus);
        Assert.Equal(("search", null as string, "v-search"), (searchRow.Endpoint, searchRow.QuerySku, searchRow.VisitorId));
        Assert.Equal(searchBody.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("sku").GetString()), searchRow.Skus);
    }

    [Fact]
    public async Task An_engagement_with_a_served_list_counts_against_its_position_and_arm_beside_the_impressions()
    {
        var response = await app.CreateClient().GetAsync($"/similar/{ServedCatalog.SkuOf(5)}?k=3&visitorId=v-ctr");
        var body = Json(await response.Content.ReadAsStringAsync());
        var requestId = RequestIdOf(response, body);
        await RowsAsync(requestId);

        await app.CreateAdminClient().PostEventsAsync(Event($"ctr-{Guid.NewGuid():N}", "v-ctr", type: "addToCart")
            .With("requestId", requestId).With("position", 3).With("sourceSku", ServedCatalog.SkuOf(5)));
        var metrics = await app.CreateClient().GetStringAsync("/metrics");

        Assert.Matches("""similarity_served_impressions_total\{(?=[^}]*arm="none")(?=[^}]*position="3")[^}]*\} [1-9]""", metrics);
        Assert.Matches("""similarity_served_engagements_total\{(?=[^}]*arm="none")(?=[^}]*position="3")(?=[^}]*type="addToCart")[^}]*\} 1""", metrics);
    }
}
