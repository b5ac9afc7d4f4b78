using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Contract;

/// <summary>
/// The document says what the answers are: each member an answer always carries is required and each it does not is
/// optional, null is allowed where it is answered, the enumerations are the values the database allows, the examples
/// come from the demo catalog, and every answer with a body names its media type.
/// </summary>
public sealed partial class OpenApiContractTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [GeneratedRegex("^oc-[0-9a-f]{16}$")]
    private static partial Regex DemoSku();

    async Task<JsonElement> DocumentAsync() => JsonElement.Parse(await app.CreateClient().GetStringAsync("/swagger/v1/swagger.json"));

    static JsonElement Schema(JsonElement document, string name) => document.GetProperty("components").GetProperty("schemas").GetProperty(name);

    static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    /// <summary>Every member of the answer is in the schema; the required ones are there, nullable where the answer has null.</summary>
    static void Matches(JsonElement document, string schemaName, JsonElement answer)
    {
        var schema = Schema(document, schemaName);
        var properties = schema.GetProperty("properties");
        var required = Strings(schema.GetProperty("required"));
        foreach (var member in answer.EnumerateObject())
        {
            Assert.True(properties.TryGetProperty(member.Name, out var property), $"{schemaName}.{member.Name} is not in the document");
            if (member.Value.ValueKind == JsonValueKind.Null)
                Assert.True(property.TryGetProperty("nullable", out var nullable) && nullable.GetBoolean(), $"{schemaName}.{member.Name} is answered null but not nullable");
        }
        foreach (var name in required)
            Assert.True(answer.TryGetProperty(name, out _), $"{schemaName}.{name} is required but not answered");
    }

    [Fact]
    public async Task An_answer_of_similar_and_of_an_import_has_every_required_member_and_only_documented_ones()
    {
        var admin = app.CreateAdminClient();
        await admin.PutItemAsync(new TestItem("oc-4247b1b271e6b456", "Emperor Penguin", "animals/birds", "Contoso", 76.93m));
        await admin.PutItemAsync(new TestItem("oc-1aea28e6c03e48e4", "penguin", "animals/birds"));
        var job = await admin.StartAsync(ImportClient.Form("sku,title\noc-0980042b5d0eb232,Tux Head\n"));
        await admin.WaitForAsync(job.Id, j => j.FinishedAt is not null);
        var document = await DocumentAsync();

        var similar = JsonElement.Parse(await app.CreateClient().GetStringAsync("/similar/oc-4247b1b271e6b456?k=5"));
        Matches(document, "SimilarResponse", similar);
        Assert.NotEmpty(similar.GetProperty("results").EnumerateArray());
        foreach (var result in similar.GetProperty("results").EnumerateArray())
            Matches(document, "SimilarResult", result);
        Assert.DoesNotContain("description", Strings(Schema(document, "SimilarResult").GetProperty("required"))); // only with fields=description
        var imported = JsonElement.Parse(await admin.GetStringAsync($"/imports/{job.Id}"));
        Matches(document, "JobResponse", imported);
        Matches(document, "Counts", imported.GetProperty("counts"));
    }

    [Theory]
    [InlineData("JobResponse", "status", "import_jobs", "status")]
    [InlineData("JobResponse", "format", "import_jobs", "format")]
    [InlineData("ModelSetInfo", "status", "model_sets", "status")]
    public async Task An_enumeration_holds_the_values_the_database_allows(string schema, string member, string table, string column)
    {
        app.CreateClient(); // the service has migrated its database
        await using var connection = new NpgsqlConnection(app.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relname = @table AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%' || @column || '%'
            """, connection);
        command.Parameters.AddWithValue("table", table);
        command.Parameters.AddWithValue("column", column);
        var check = (string)(await command.ExecuteScalarAsync())!;
        var allowed = Regex.Matches(check, "'([^']+)'").Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal);

        var values = Strings(Schema(await DocumentAsync(), schema).GetProperty("properties").GetProperty(member).GetProperty("enum"));

        Assert.Equal(allowed, values.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("Rule", "kind", new[] { "pin", "block" })]
    [InlineData("SimilarResponse", "source", new[] { "precomputed", "live" })]
    [InlineData("SimilarResponse", "rankedBy", new[] { "fused", "weighted" })]
    [InlineData("SimilarExamplesResponse", "strategy", new[] { "average", "bestScore" })]
    public async Task The_strings_of_a_few_values_are_enumerations(string schema, string member, string[] expected)
    {
        var values = Strings(Schema(await DocumentAsync(), schema).GetProperty("properties").GetProperty(member).GetProperty("enum"));

        Assert.Equal(expected, values);
    }

    [Fact]
    public async Task The_examples_are_demo_skus_and_no_placeholders()
    {
        var text = await app.CreateClient().GetStringAsync("/swagger/v1/swagger.json");
        Assert.DoesNotContain("mug-red-350", text, StringComparison.Ordinal);
        var document = JsonElement.Parse(text);
        var sku = document.GetProperty("paths").GetProperty("/similar/{sku}").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == "sku").GetProperty("schema").GetProperty("example").GetString()!;
        Assert.Matches(DemoSku(), sku);
        foreach (var schema in new[] { "SimilarResult", "ItemResponse", "Rule" })
            Assert.Matches(DemoSku(), Schema(document, schema).GetProperty("properties").GetProperty("sku").GetProperty("example").GetString()!);
    }

    [Fact]
    public async Task Every_answer_with_a_body_names_its_media_type_and_every_body_route_declares_415()
    {
        var document = await DocumentAsync();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                foreach (var response in operation.Value.GetProperty("responses").EnumerateObject().Where(r => r.Name is not ("204" or "304")))
                    Assert.True(response.Value.TryGetProperty("content", out var content) && content.EnumerateObject().Any(),
                        $"{operation.Name} {path.Name} {response.Name} has no media type");
                if (operation.Value.TryGetProperty("requestBody", out _))
                    Assert.True(operation.Value.GetProperty("responses").TryGetProperty("415", out _), $"{operation.Name} {path.Name} does not declare 415");
            }
        }
    }
}
