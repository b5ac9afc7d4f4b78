using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Similarity.Catalog;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Infrastructure;

public sealed record TestItem(string Sku, string Title, string? Category = null, string? Brand = null, decimal? Price = null,
    bool Available = true, byte[]? Image = null, string? Description = null, string? Attributes = null);

public static class CatalogClient
{
    public static MultipartFormDataContent Form(TestItem item)
    {
        var form = new MultipartFormDataContent { { new StringContent(item.Title), "title" } };
        if (item.Category is not null) form.Add(new StringContent(item.Category), "category");
        if (item.Brand is not null) form.Add(new StringContent(item.Brand), "brand");
        if (item.Price is { } price) form.Add(new StringContent(price.ToString(CultureInfo.InvariantCulture)), "price");
        if (item.Description is not null) form.Add(new StringContent(item.Description), "description");
        if (item.Attributes is not null) form.Add(new StringContent(item.Attributes), "attributes");
        form.Add(new StringContent(item.Available ? "true" : "false"), "available");
        if (item.Image is not null) form.Add(new ByteArrayContent(item.Image), "image", "image.png");
        return form;
    }

    public static async Task<ItemsApi.ItemResponse> PutItemAsync(this HttpClient client, TestItem item)
    {
        var response = await client.PutAsync($"/items/{item.Sku}", Form(item));
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"PUT /items/{item.Sku} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<ItemsApi.ItemResponse>())!;
    }

    public static async Task<SimilarApi.SimilarResponse> SimilarAsync(this HttpClient client, string sku, string query = "")
    {
        var response = await client.GetAsync($"/similar/{sku}{query}");
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET /similar/{sku}{query} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<SimilarApi.SimilarResponse>())!;
    }

    public static JsonElement Problem(string body) => JsonElement.Parse(body);

    /// <summary>Asserts a 400 ValidationProblem whose errors name <paramref name="field"/>.</summary>
    public static async Task AssertNamesFieldAsync(HttpResponseMessage response, string field)
    {
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = Problem(await response.Content.ReadAsStringAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"errors should name '{field}': {errors}");
    }
}
