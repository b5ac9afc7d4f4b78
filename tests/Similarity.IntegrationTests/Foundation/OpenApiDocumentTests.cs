using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Foundation;

/// <summary>The OpenAPI document a client generator trusts: Spectral's gate, and each stumble a client generator once hit.</summary>
public sealed class OpenApiDocumentTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    async Task<JsonElement> DocumentAsync() => JsonElement.Parse(await app.CreateClient().GetStringAsync("/swagger/v1/swagger.json"));

    [Fact]
    public async Task Spectral_finds_no_error_with_the_oas_and_owasp_rulesets()
    {
        var path = Path.Combine(Path.GetTempPath(), $"openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, await app.CreateClient().GetStringAsync("/swagger/v1/swagger.json"));
        try
        {
            var spectral = Path.Combine(TestPaths.Root, "tests", "lint", "node_modules", ".bin", "spectral");
            var start = new ProcessStartInfo(spectral, ["lint", path, "--ruleset", Path.Combine(TestPaths.Root, "tests", "lint", ".spectral.yaml"),
                "--fail-severity", "error", "--format", "text"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            Assert.True(process.ExitCode == 0, "Spectral found errors:\n" + output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Query_parameters_are_named_as_the_readme_names_them_with_their_ranges_and_defaults()
    {
        var parameters = (await DocumentAsync()).GetProperty("paths").GetProperty("/similar/{sku}").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);

        Assert.Equal(["sku", "k", "minScore", "category", "brand", "priceMin", "priceMax", "available", "exclude", "imageWeight", "textWeight", "fields",
            "diversity", "maxPerCategory", "maxPerBrand", "boostAvailable", "fallback", "blend", "visitorId", "X-Visitor-Id", "mode", "lexicalWeight"],
            parameters.Keys);
        var k = parameters["k"].GetProperty("schema");
        Assert.Equal((1, 100, 10), (k.GetProperty("minimum").GetInt32(), k.GetProperty("maximum").GetInt32(), k.GetProperty("default").GetInt32()));
        Assert.Equal("^[A-Za-z0-9._-]{1,64}$", parameters["sku"].GetProperty("schema").GetProperty("pattern").GetString());
        Assert.All(parameters.Values, p => Assert.False(string.IsNullOrWhiteSpace(p.GetProperty("description").GetString())));
    }

    [Fact]
    public async Task Every_error_answer_is_a_problem_details_and_every_request_body_is_described()
    {
        var document = await DocumentAsync();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                foreach (var response in operation.Value.GetProperty("responses").EnumerateObject().Where(r => r.Name.CompareTo("400") >= 0))
                    Assert.True(response.Value.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{operation.Name} {path.Name} {response.Name}");
                Assert.False(string.IsNullOrWhiteSpace(operation.Value.GetProperty("description").GetString()), $"{operation.Name} {path.Name} has no description");
            }
        }
        Assert.NotEmpty(document.GetProperty("servers").EnumerateArray());
    }

    [Fact]
    public async Task The_import_form_names_its_files_and_fields_and_the_errors_come_as_json_or_csv()
    {
        var imports = (await DocumentAsync()).GetProperty("paths").GetProperty("/imports");
        var post = imports.GetProperty("post");
        Assert.Contains(post.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "Idempotency-Key" && p.GetProperty("in").GetString() == "header");
        var document = await DocumentAsync();
        var form = document.GetProperty("components").GetProperty("schemas").GetProperty("ImportUploadForm");
        Assert.Equal(["catalog", "images", "format", "mapping", "missingImage"], form.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["catalog"], form.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("binary", form.GetProperty("properties").GetProperty("catalog").GetProperty("format").GetString());

        var errors = document.GetProperty("paths").GetProperty("/imports/{id}/errors").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.Equal(["application/json", "text/csv"], errors.EnumerateObject().Select(c => c.Name));
    }

    [Fact]
    public async Task The_item_form_marks_the_title_required_and_gives_try_it_out_values_that_pass()
    {
        var form = (await DocumentAsync()).GetProperty("paths").GetProperty("/items/{sku}").GetProperty("put").GetProperty("requestBody")
            .GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema");
        Assert.Equal(["title"], form.GetProperty("required").EnumerateArray().Select(r => r.GetString()));

        // Every example value, sent as the form, is accepted: Swagger UI's try-it-out works as filled in.
        var content = new MultipartFormDataContent();
        foreach (var field in form.GetProperty("properties").EnumerateObject().Where(f => f.Value.TryGetProperty("example", out _)))
            content.Add(new StringContent(field.Value.GetProperty("example").GetString()!), field.Name);
        var response = await app.CreateAdminClient().PutAsync("/items/example-values", content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Each operation of the document as "METHOD /path", e.g. "GET /similar/{sku}".</summary>
    static IEnumerable<(string Route, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Select(operation => ($"{operation.Name.ToUpperInvariant()} {path.Name}", operation.Value)));

    /// <summary>The names a client types: query parameters and the fields of JSON and multipart bodies.</summary>
    static IEnumerable<string> NamesOf(JsonElement document, JsonElement operation)
    {
        foreach (var parameter in operation.TryGetProperty("parameters", out var parameters) ? parameters.EnumerateArray() : default)
        {
            if (parameter.GetProperty("in").GetString() is "query" or "header")
                yield return parameter.GetProperty("name").GetString()!;
        }
        if (!operation.TryGetProperty("requestBody", out var body))
            yield break;
        foreach (var content in body.GetProperty("content").EnumerateObject())
        {
            var schema = content.Value.GetProperty("schema");
            if (schema.TryGetProperty("$ref", out var reference))
                schema = document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]);
            foreach (var property in schema.TryGetProperty("properties", out var properties) ? properties.EnumerateObject() : default)
                yield return property.Name;
        }
    }

    [Fact]
    public async Task The_readme_names_every_route_parameter_and_field_exactly_as_the_document_does()
    {
        var document = await DocumentAsync();
        var readme = await File.ReadAllTextAsync(Path.Combine(TestPaths.Root, "README.md"));
        var api = readme[readme.IndexOf("## API", StringComparison.Ordinal)..readme.IndexOf("## Configuration", StringComparison.Ordinal)];
        var documented = Regex.Matches(api, "`(GET|PUT|PATCH|POST|DELETE) (/[^`]*)`").Select(m => $"{m.Groups[1]} {m.Groups[2]}").ToHashSet();

        var routes = Operations(document).Select(o => o.Route).ToHashSet();
        Assert.Empty(routes.Except(documented).Order());
        Assert.Empty(documented.Except(routes).Except(["GET /metrics"]).Order()); // /metrics is left out of the OpenAPI document
        var unnamed = Operations(document).SelectMany(o => NamesOf(document, o.Operation).Select(name => $"{o.Route}: {name}"))
            .Where(entry => !api.Contains($"`{entry[(entry.LastIndexOf(": ", StringComparison.Ordinal) + 2)..]}`", StringComparison.Ordinal));
        Assert.Empty(unnamed);
    }

    [Fact]
    public async Task The_http_file_has_a_request_for_every_route_against_a_host_variable()
    {
        var document = await DocumentAsync();
        var requests = (await File.ReadAllLinesAsync(Path.Combine(TestPaths.Root, "src", "Similarity.Api", "Similarity.Api.http")))
            .Select(line => Regex.Match(line, @"^(GET|PUT|PATCH|POST|DELETE) \{\{host\}\}(/[^?\s]*)"))
            .Where(m => m.Success).Select(m => (Method: m.Groups[1].Value, Path: m.Groups[2].Value)).ToList();

        var routes = Operations(document).Select(o => o.Route).Append("GET /metrics");
        var missing = routes.Where(route =>
        {
            var (method, template) = (route[..route.IndexOf(' ', StringComparison.Ordinal)], route[(route.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
            var pattern = "^" + Regex.Replace(Regex.Escape(template), @"\\\{[^}]+}", "[^/]+") + "$";
            return !requests.Any(r => r.Method == method && Regex.IsMatch(r.Path, pattern));
        });
        Assert.Empty(missing);
    }
}
