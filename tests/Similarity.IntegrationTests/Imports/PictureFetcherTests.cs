using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Similarity.Imports.Pictures;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Imports;

/// <summary>
/// Picture downloads against a web server of the test's own on 127.0.0.1. Host names resolve through a fixed table,
/// and the connector records every address the client tries: no test ever connects anywhere but loopback.
/// </summary>
public sealed class PictureFetcherTests : IAsyncLifetime
{
    static readonly byte[] Png = TestImages.Noise(40, 30, seed: 1);
    WebApplication _server = null!;
    int _port;
    readonly ConcurrentDictionary<string, int> _requests = new();
    readonly TaskCompletionSource _neverAnswered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _flaky;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _server = builder.Build();
        _server.Use((http, next) => { _requests.AddOrUpdate(http.Request.Path, 1, (_, n) => n + 1); return next(http); });
        _server.MapGet("/ok.png", () => Results.Bytes(Png, "image/png"));
        _server.MapGet("/missing.png", () => Results.NotFound());
        _server.MapGet("/page.png", () => Results.Text("<!doctype html><title>not a picture</title>", "image/png"));
        _server.MapGet("/declared-big.png", (HttpContext http) => { http.Response.ContentLength = 50_000_000; return http.Response.Body.WriteAsync(Png).AsTask(); });
        _server.MapGet("/streamed-big.png", async (HttpContext http) =>
        {
            await http.Response.Body.WriteAsync(Png); // no Content-Length: only the bytes tell
            for (var i = 0; i < 100; i++)
                await http.Response.Body.WriteAsync(new byte[10_000]);
        });
        _server.MapGet("/slow.png", async () => { await _neverAnswered.Task; return Results.Bytes(Png, "image/png"); });
        _server.MapGet("/flaky.png", () => Interlocked.Increment(ref _flaky) == 1 ? Results.StatusCode(503) : Results.Bytes(Png, "image/png"));
        _server.MapGet("/hop/{n:int}", (int n) => Results.Redirect(n == 0 ? "/ok.png" : $"/hop/{n - 1}"));
        _server.MapGet("/to-metadata", () => Results.Redirect("http://169.254.169.254/latest/meta-data/"));
        _server.MapGet("/to-rebinding", (HttpContext http) => Results.Redirect($"http://rebinding.test:{http.Connection.LocalPort}/ok.png"));
        _server.MapGet("/to-ftp", () => Results.Redirect("ftp://pictures.test/ok.png"));
        _server.MapGet("/tagged.png", (HttpContext http) =>
        {
            if (http.Request.Headers.IfNoneMatch == "\"v1\"")
                return Results.StatusCode(304);
            http.Response.Headers.ETag = "\"v1\"";
            return Results.Bytes(Png, "image/png");
        });
        await _server.StartAsync();
        _port = new Uri(_server.Urls.First()).Port;
    }

    public async Task DisposeAsync()
    {
        _neverAnswered.TrySetResult();
        await _server.DisposeAsync();
    }

    sealed class FixedResolver : IHostResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) => Task.FromResult(host switch
        {
            "pictures.test" => [IPAddress.Loopback],
            "rebinding.test" => new[] { IPAddress.Loopback, IPAddress.Parse("10.0.0.7") }, // one public-looking answer, one internal
            "metadata.test" => [IPAddress.Parse("169.254.169.254")],
            "mapped.test" => [IPAddress.Parse("::ffff:192.168.0.10")],
            _ => [],
        });
    }

    /// <summary>Connects to loopback only, and remembers every endpoint it was asked for.</summary>
    sealed class LoopbackOnlyConnector : ISocketConnector
    {
        readonly ISocketConnector _real = new RealConnector();

        public ConcurrentQueue<IPEndPoint> Attempts { get; } = new();

        public ValueTask<Stream> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
        {
            Attempts.Enqueue(endpoint);
            if (!IPAddress.IsLoopback(endpoint.Address))
                throw new InvalidOperationException($"the test tried to connect to {endpoint}");
            return _real.ConnectAsync(endpoint, cancellationToken);
        }

        sealed class RealConnector : ISocketConnector
        {
            public async ValueTask<Stream> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
            {
                var socket = new System.Net.Sockets.Socket(endpoint.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await socket.ConnectAsync(endpoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
        }
    }

    (PictureFetcher Fetcher, LoopbackOnlyConnector Connector, ServiceProvider Services) Create(bool allowLoopback = true, string[]? allowedHosts = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Similarity:Imports:ImageFetch:AllowLoopback"] = allowLoopback ? "true" : "false",
            ["Similarity:Imports:ImageFetch:TimeoutSeconds"] = "1",
            ["Similarity:Imports:ImageFetch:MaxBytes"] = "100000",
        };
        for (var i = 0; i < (allowedHosts?.Length ?? 0); i++)
            settings[$"Similarity:Imports:ImageFetch:AllowedHosts:{i}"] = allowedHosts![i];
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddLogging()
            .AddPictureFetching();
        var connector = new LoopbackOnlyConnector();
        services.AddSingleton<IHostResolver>(new FixedResolver());
        services.AddSingleton<ISocketConnector>(connector);
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<PictureFetcher>(), connector, provider);
    }

    string Url(string path, string host = "pictures.test") => $"http://{host}:{_port}{path}";

    async Task<PictureFetch> FetchAsync(string url, PictureValidators? known = null, bool allowLoopback = true, string[]? allowedHosts = null)
    {
        var (fetcher, connector, services) = Create(allowLoopback, allowedHosts);
        await using (services)
        {
            var result = await fetcher.FetchAsync(url, known, CancellationToken.None);
            Assert.All(connector.Attempts, endpoint => Assert.True(IPAddress.IsLoopback(endpoint.Address), $"connected to {endpoint}"));
            return result;
        }
    }

    static string Failure(PictureFetch result) => Assert.IsType<PictureFetch.Failed>(result).Reason;

    [Fact]
    public async Task A_picture_is_downloaded_with_its_validators()
    {
        var fetched = Assert.IsType<PictureFetch.Fetched>(await FetchAsync(Url("/tagged.png")));
        Assert.Equal(Png, fetched.Bytes);
        Assert.Equal("\"v1\"", fetched.Validators.ETag);
    }

    [Fact]
    public async Task A_second_download_asks_whether_it_changed_and_gets_nothing_new()
    {
        var result = await FetchAsync(Url("/tagged.png"), new PictureValidators("\"v1\"", null));
        Assert.IsType<PictureFetch.NotModified>(result);
    }

    [Fact]
    public async Task Failures_name_their_reason()
    {
        Assert.Equal("404 Not Found", Failure(await FetchAsync(Url("/missing.png"))));
        Assert.StartsWith("not an image (served as image/png", Failure(await FetchAsync(Url("/page.png"))), StringComparison.Ordinal);
        Assert.StartsWith("too large: 50000000 bytes", Failure(await FetchAsync(Url("/declared-big.png"))), StringComparison.Ordinal);
        Assert.StartsWith("too large: more bytes", Failure(await FetchAsync(Url("/streamed-big.png"))), StringComparison.Ordinal);
        Assert.Equal("timed out after 1 s", Failure(await FetchAsync(Url("/slow.png"))));
    }

    [Fact]
    public async Task A_server_error_is_retried_and_a_404_is_not()
    {
        Assert.IsType<PictureFetch.Fetched>(await FetchAsync(Url("/flaky.png")));
        Assert.Equal(2, _requests["/flaky.png"]);

        await FetchAsync(Url("/missing.png"));
        Assert.Equal(1, _requests["/missing.png"]);
    }

    [Fact]
    public async Task Up_to_three_redirects_are_followed_and_a_fourth_is_refused()
    {
        Assert.IsType<PictureFetch.Fetched>(await FetchAsync(Url("/hop/2"))); // hop/2 → hop/1 → hop/0 → ok.png
        Assert.Equal("more than 3 redirects", Failure(await FetchAsync(Url("/hop/3"))));
    }

    [Theory]
    [InlineData("/to-metadata", "169.254.169.254 is a link-local address")]
    [InlineData("/to-rebinding", "10.0.0.7 is a private address")]
    [InlineData("/to-ftp", "the scheme 'ftp' is not http or https")]
    public async Task A_redirect_is_checked_like_the_first_url(string path, string reason) =>
        Assert.Contains(reason, Failure(await FetchAsync(Url(path))), StringComparison.Ordinal);

    [Theory]
    [InlineData("http://metadata.test/latest/meta-data/", "169.254.169.254 is a link-local address")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address")]
    [InlineData("http://[fd00::1]/x.png", "fd00::1 is a unique-local (private) address")]
    [InlineData("http://mapped.test/x.png", "embeds 192.168.0.10 is a private address")]
    [InlineData("http://10.0.0.1/x.png", "10.0.0.1 is a private address")]
    [InlineData("http://rebinding.test/x.png", "10.0.0.7 is a private address")]
    [InlineData("http://nowhere.test/x.png", "the name has no address")]
    [InlineData("file:///etc/passwd", "the scheme 'file' is not http or https")]
    [InlineData("gopher://pictures.test/x", "the scheme 'gopher' is not http or https")]
    public async Task Internal_addresses_are_refused_before_connecting(string url, string reason)
    {
        var (fetcher, connector, services) = Create();
        await using (services)
        {
            var reasonGiven = Failure(await fetcher.FetchAsync(url, null, CancellationToken.None));
            Assert.StartsWith("address refused: ", reasonGiven, StringComparison.Ordinal);
            Assert.Contains(reason, reasonGiven, StringComparison.Ordinal);
            Assert.Empty(connector.Attempts);
        }
    }

    [Fact]
    public async Task Loopback_is_refused_unless_allowed()
    {
        Assert.Contains("127.0.0.1 is a loopback address", Failure(await FetchAsync(Url("/ok.png"), allowLoopback: false)), StringComparison.Ordinal);
        Assert.Contains("127.0.0.1 is a loopback address", Failure(await FetchAsync(Url("/ok.png", host: "127.0.0.1"), allowLoopback: false)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_allowed_hosts_set_other_hosts_are_refused()
    {
        Assert.IsType<PictureFetch.Fetched>(await FetchAsync(Url("/ok.png"), allowedHosts: ["pictures.test"]));
        Assert.Contains("127.0.0.1 is not among Similarity:Imports:ImageFetch:AllowedHosts",
            Failure(await FetchAsync(Url("/ok.png", host: "127.0.0.1"), allowedHosts: ["pictures.test"])), StringComparison.Ordinal);
    }
}
