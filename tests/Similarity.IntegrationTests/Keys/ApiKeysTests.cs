using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Keys;

/// <summary>Named keys through /keys: created with their secret shown once, listed without it, revoked, rotated.</summary>
public sealed class ApiKeysTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    NpgsqlDataSource Database => app.Services.GetRequiredService<NpgsqlDataSource>();

    [Fact]
    public async Task A_created_key_answers_its_secret_once_and_the_database_keeps_only_its_sha256()
    {
        var key = await app.CreateKeyAsync("shop-frontend", "storefront");

        Assert.StartsWith("sim_", key.Secret, StringComparison.Ordinal);
        Assert.Equal(("shop-frontend", "storefront"), (key.Name, key.Role));
        await using var command = Database.CreateCommand("SELECT secret_hash, row_to_json(api_keys)::text AS row FROM api_keys WHERE id = $1");
        command.Parameters.Add(new() { Value = key.Id });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(key.Secret)), reader.GetFieldValue<byte[]>(0));
        Assert.DoesNotContain(key.Secret[4..], reader.GetString(1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_listing_names_each_key_and_its_role_and_limits_but_never_its_secret()
    {
        var key = await app.CreateKeyAsync("listed-admin", "admin", perSecond: 7, burst: 9);

        var text = await app.CreateAdminClient().GetStringAsync("/keys");

        Assert.DoesNotContain(key.Secret[4..], text, StringComparison.Ordinal);
        var listed = JsonElement.Parse(text).GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("id").GetInt64() == key.Id);
        Assert.False(listed.TryGetProperty("secret", out _));
        Assert.Equal(("listed-admin", "admin", 7, 9), (listed.GetProperty("name").GetString(), listed.GetProperty("role").GetString(),
            listed.GetProperty("perSecond").GetInt32(), listed.GetProperty("burst").GetInt32()));
        Assert.Equal(key.Secret[..8] + "…", listed.GetProperty("hint").GetString());
    }

    [Fact]
    public async Task A_revoked_key_is_not_recognised_from_the_next_request_on()
    {
        var key = await app.CreateKeyAsync("to-revoke", "admin");
        var client = app.ClientWithKey(key.Secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/keys")).StatusCode); // now remembered by the lookup

        Assert.Equal(HttpStatusCode.NoContent, (await app.CreateAdminClient().DeleteAsync($"/keys/{key.Id}")).StatusCode);

        var refused = await client.GetAsync("/keys");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("API key not recognised.", (await KeyClient.ProblemAsync(refused)).GetProperty("title").GetString());
        var again = await app.CreateAdminClient().DeleteAsync($"/keys/{key.Id}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("No such key.", (await KeyClient.ProblemAsync(again)).GetProperty("title").GetString());
    }

    [Fact]
    public async Task Rotation_keeps_two_keys_live_until_the_old_one_is_revoked()
    {
        var old = await app.CreateKeyAsync("importer", "admin");
        var fresh = await app.CreateKeyAsync("importer", "admin");

        Assert.Equal(HttpStatusCode.OK, (await app.ClientWithKey(old.Secret).GetAsync("/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.ClientWithKey(fresh.Secret).GetAsync("/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await app.ClientWithKey(fresh.Secret).DeleteAsync($"/keys/{old.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ClientWithKey(old.Secret).GetAsync("/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.ClientWithKey(fresh.Secret).GetAsync("/keys")).StatusCode);
    }

    [Fact]
    public async Task A_storefront_key_on_an_admin_route_is_403_naming_the_admin_role_and_passes_on_the_storefront_routes()
    {
        var key = await app.CreateKeyAsync("storefront-only", "storefront");
        var client = app.ClientWithKey(key.Secret);

        foreach (var refused in new[]
        {
            await client.GetAsync("/keys"),
            await client.PutAsync("/items/sf-1", CatalogClient.Form(new TestItem("sf-1", "Hat"))),
            await client.GetAsync("/rules"),
        })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            var detail = (await KeyClient.ProblemAsync(refused)).GetProperty("detail").GetString();
            Assert.Contains("storefront-only", detail, StringComparison.Ordinal);
            Assert.Contains("the role admin", detail, StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/embed", EmbedClient.Form(text: "red scarf"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/similar/no-such-item")).StatusCode);
    }

    [Fact]
    public async Task A_missing_key_is_required_and_a_wrong_one_is_not_recognised()
    {
        var missing = await app.CreateClient().GetAsync("/keys");
        var wrong = await app.ClientWithKey("sim_not-a-key-of-this-service").GetAsync("/keys");

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (missing.StatusCode, wrong.StatusCode));
        var (required, unknown) = (await KeyClient.ProblemAsync(missing), await KeyClient.ProblemAsync(wrong));
        Assert.Equal("API key required.", required.GetProperty("title").GetString());
        Assert.Equal("API key not recognised.", unknown.GetProperty("title").GetString());
        Assert.Contains("X-Api-Key", required.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("X-Api-Key", unknown.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_bootstrap_key_of_configuration_is_an_admin_key_beside_the_created_ones()
    {
        await app.CreateKeyAsync("beside-the-bootstrap", "admin");
        var admin = app.CreateAdminClient();

        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/rules")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/items/never-stored")).StatusCode);
    }

    [Theory]
    [InlineData("""{"name":"x","role":"owner"}""", "role")]
    [InlineData("""{"role":"admin"}""", "name")]
    [InlineData("""{"name":"  ","role":"admin"}""", "name")]
    [InlineData("""{"name":"nul \u0000","role":"admin"}""", "name")]
    [InlineData("""{"name":"x","role":"storefront","perSecond":0}""", "perSecond")]
    [InlineData("""{"name":"x","role":"storefront","burst":1000001}""", "burst")]
    public async Task A_key_that_cannot_be_made_is_a_400_naming_the_field(string body, string field)
    {
        var response = await app.CreateAdminClient().PostAsync("/keys", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await KeyClient.ProblemAsync(response)).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task A_name_with_half_a_surrogate_pair_is_a_400_not_a_500()
    {
        var response = await app.CreateAdminClient().PostAsync("/keys",
            new StringContent("""{"name":"half \ud800 a pair","role":"admin"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await KeyClient.ProblemAsync(response);
    }

    [Fact]
    public async Task The_openapi_document_declares_the_key_routes_as_admin_routes()
    {
        var paths = JsonElement.Parse(await app.CreateClient().GetStringAsync("/swagger/v1/swagger.json")).GetProperty("paths");

        foreach (var (path, method) in new[] { ("/keys", "post"), ("/keys", "get"), ("/keys/{id}", "delete") })
        {
            var operation = paths.GetProperty(path).GetProperty(method);
            Assert.Equal("Keys", operation.GetProperty("tags")[0].GetString());
            Assert.True(operation.GetProperty("security")[0].TryGetProperty("X-Api-Key", out _), $"{method} {path}");
            foreach (var status in new[] { "401", "403" })
                Assert.True(operation.GetProperty("responses").GetProperty(status).GetProperty("content").TryGetProperty("application/problem+json", out _));
        }
        Assert.True(paths.GetProperty("/keys").GetProperty("post").GetProperty("responses").TryGetProperty("201", out _));
        Assert.True(paths.GetProperty("/keys/{id}").GetProperty("delete").GetProperty("responses").TryGetProperty("404", out _));
    }
}
