using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Hosting;

/// <summary>The admin key is checked from the headers alone, before a byte of the body is asked for.</summary>
public sealed class AdminKeyTests(KestrelSimilarityApp app) : IClassFixture<KestrelSimilarityApp>
{
    const long TwentyFiveMegabytes = 25L * 1024 * 1024;

    [Theory]
    [InlineData("PUT", "/items/sku-1", null)]
    [InlineData("PUT", "/items/sku-1", "not-the-admin-key-at-all")]
    [InlineData("POST", "/imports", null)]
    public async Task An_unauthenticated_25_MB_upload_is_refused_before_its_body_is_read(string method, string path, string? key)
    {
        // The client announces its body with Expect: 100-continue and sends it only once the server asks for it
        // (Kestrel asks when the endpoint first reads the body); the timeout is long so the client never gives
        // up waiting and sends it anyway. A server that bound the form before checking the key would pull all 25 MB.
        using var handler = new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(5) };
        using var client = new HttpClient(handler) { BaseAddress = app.Address };
        var body = new CountingContent(TwentyFiveMegabytes);
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body };
        request.Headers.ExpectContinue = true;
        if (key is not null)
            request.Headers.Add("X-Api-Key", key);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("X-Api-Key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, body.BytesSent);
    }

    [Fact]
    public async Task With_the_key_the_body_is_read()
    {
        // The other side of the test above: the same upload with the key is asked for and read.
        using var handler = new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(5) };
        using var client = new HttpClient(handler) { BaseAddress = app.Address };
        var body = new CountingContent(64 * 1024);
        using var request = new HttpRequestMessage(HttpMethod.Put, "/items/sku-1") { Content = body };
        request.Headers.ExpectContinue = true;
        request.Headers.Add("X-Api-Key", SimilarityApp.AdminKey);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode); // the zeros are no multipart form
        Assert.Equal(64 * 1024, body.BytesSent);
    }

    /// <summary>A multipart-typed body of zeros that counts how much of it the server made the client send.</summary>
    sealed class CountingContent : HttpContent
    {
        readonly long _length;
        long _sent;

        public CountingContent(long length)
        {
            _length = length;
            Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=never-sent");
        }

        public long BytesSent => Interlocked.Read(ref _sent);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[64 * 1024];
            for (long left = _length; left > 0; left -= chunk.Length)
            {
                var size = (int)Math.Min(chunk.Length, left);
                await stream.WriteAsync(chunk.AsMemory(0, size));
                Interlocked.Add(ref _sent, size);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _length;
            return true;
        }
    }
}
