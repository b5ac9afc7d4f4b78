using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Contract;

/// <summary>A JSON body is as strict as a query string: what it cannot take is a 400 or 415 that says what to send instead.</summary>
public sealed class StrictBodyTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    static StringContent Json(string json, string mediaType = "application/json") => new(json, Encoding.UTF8, mediaType);

    static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonElement.Parse(body);
    }

    static string[] ErrorsOf(JsonElement problem, string field) =>
        [.. problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()!)];

    [Fact]
    public async Task A_query_parameter_sent_in_the_body_is_named_with_where_it_belongs()
    {
        var response = await app.CreateClient().PostAsync("/similar", Json("""{"positive": ["a-1"], "k": 5}"""));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        var error = Assert.Single(ErrorsOf(problem, "k"));
        Assert.Contains("Unknown member 'k'", error, StringComparison.Ordinal);
        Assert.Contains("query parameter", error, StringComparison.Ordinal);
        Assert.Contains("?k=", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_misspelt_member_is_named_and_not_taken_for_a_query_parameter()
    {
        var response = await app.CreateClient().PostAsync("/similar/batch", Json("""{"skus": ["a-1"], "skuz": ["b-2"]}"""));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        var error = Assert.Single(ErrorsOf(problem, "skuz"));
        Assert.Contains("Unknown member 'skuz'", error, StringComparison.Ordinal);
        Assert.DoesNotContain("query parameter", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_member_of_an_admin_body_is_named()
    {
        var response = await app.CreateAdminClient().PutAsync("/rules/a-1/b-2", Json("""{"kind": "pin", "positon": 1}"""));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("'positon'", Assert.Single(ErrorsOf(problem, "positon")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_of_the_wrong_kind_names_its_field_and_what_it_takes()
    {
        var response = await app.CreateClient().PostAsync("/similar", Json("""{"positive": "a-1"}"""));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        var error = Assert.Single(ErrorsOf(problem, "positive"));
        Assert.Contains("a JSON array", error, StringComparison.Ordinal);
        Assert.Contains("line 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_json_says_so_with_where()
    {
        var response = await app.CreateClient().PostAsync("/similar/batch", Json("""{"skus": ["a-1",]"""));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("not valid JSON", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_sent_to_the_multipart_search_is_a_415_naming_multipart()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/search", new { text = "penguin" });

        var problem = await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("multipart/form-data", detail, StringComparison.Ordinal);
        Assert.Contains("'application/json'", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_sent_to_a_json_route_is_a_415_naming_json()
    {
        var response = await app.CreateClient().PostAsync("/similar/batch", new StringContent("a-1,b-2", Encoding.UTF8, "text/plain"));

        var problem = await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("application/json", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_known_body_still_binds()
    {
        var response = await app.CreateClient().PostAsync("/similar/batch?k=5", Json("""{"skus": ["no-such-item"]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
