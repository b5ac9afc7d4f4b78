using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Foundation;

public sealed class HostTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task Live_is_healthy()
    {
        var response = await app.CreateClient().GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", (await ReadJson(response)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_reports_the_database_and_its_schema()
    {
        var response = await app.CreateClient().GetAsync("/health/ready");
        var body = await ReadJson(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var database = body.GetProperty("entries").GetProperty("database");
        Assert.Equal("Healthy", database.GetProperty("status").GetString());
        // The version this database has, whatever pgvector the machine was provisioned with (the script takes 0.8.2 or later).
        var reported = database.GetProperty("data").GetProperty("vectorExtension").GetString()!;
        await using var connection = new Npgsql.NpgsqlConnection(app.Database.ConnectionString);
        await connection.OpenAsync();
        await using var query = new Npgsql.NpgsqlCommand("SELECT extversion FROM pg_extension WHERE extname = 'vector'", connection);
        Assert.Equal((string?)await query.ExecuteScalarAsync(), reported);
        Assert.True(Version.Parse(reported) >= new Version(0, 8, 2), $"pgvector {reported} is older than the 0.8.2 the service needs");
    }

    [Fact]
    public async Task Unknown_route_is_a_problem_details_404()
    {
        var response = await app.CreateClient().GetAsync("/no/such/route");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Swagger_json_is_valid_openapi_3_and_lists_every_endpoint()
    {
        var client = app.CreateClient();
        var response = await client.GetAsync("/swagger/v1/swagger.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();

        var result = OpenApiDocument.Parse(text, "json");
        Assert.Empty(result.Diagnostic?.Errors ?? []);
        Assert.StartsWith("3.", JsonDocument.Parse(text).RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);

        var documented = result.Document!.Paths.SelectMany(p => p.Value.Operations!.Keys.Select(m => $"{m.Method.ToUpperInvariant()} {p.Key}")).ToHashSet();
        var mapped = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => $"{m} /{WithoutConstraints(e.RoutePattern.RawText!).Trim('/')}"))
            .ToHashSet();
        Assert.NotEmpty(mapped);
        Assert.Subset(documented, mapped);
        foreach (var operation in result.Document.Paths.Values.SelectMany(p => p.Operations!.Values))
            Assert.False(string.IsNullOrWhiteSpace(operation.Summary), $"{operation.OperationId} has no summary");

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html")).StatusCode);
    }

    // OpenAPI spells a route parameter {id} whatever its constraint ({id:guid}).
    static string WithoutConstraints(string route) => System.Text.RegularExpressions.Regex.Replace(route, @"\{(\w+):[^}]+\}", "{$1}");

    static async Task<JsonElement> ReadJson(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
}
