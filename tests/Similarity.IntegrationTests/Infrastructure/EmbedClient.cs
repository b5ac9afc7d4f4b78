using System.Net.Http.Json;
using Similarity.Embed;

namespace Similarity.IntegrationTests.Infrastructure;

public static class EmbedClient
{
    public static MultipartFormDataContent Form(byte[]? image = null, string? text = null, string fileName = "image.png")
    {
        var form = new MultipartFormDataContent();
        if (image is not null)
            form.Add(new ByteArrayContent(image), "image", fileName);
        if (text is not null)
            form.Add(new StringContent(text), "text");
        return form;
    }

    public static async Task<EmbedApi.EmbedResponse> EmbedAsync(this HttpClient client, byte[]? image = null, string? text = null)
    {
        var response = await client.PostAsync("/embed", Form(image, text));
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"/embed answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<EmbedApi.EmbedResponse>())!;
    }
}
