using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Keys;

namespace Similarity.IntegrationTests.Keys;

/// <summary>Creating keys through the admin routes, and clients that send them.</summary>
static class KeyClient
{
    public static async Task<KeysApi.CreatedKey> CreateKeyAsync(this SimilarityApp app, string name, string role, int? perSecond = null, int? burst = null)
    {
        var response = await app.CreateAdminClient().PostAsJsonAsync("/keys", new { name, role, perSecond, burst });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<KeysApi.CreatedKey>())!;
    }

    public static HttpClient ClientWithKey(this SimilarityApp app, string? key)
    {
        var client = app.CreateClient();
        if (key is not null)
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonElement.Parse(await response.Content.ReadAsStringAsync());
    }
}
