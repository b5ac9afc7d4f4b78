using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Similarity.Encoders;

namespace Similarity.Imports.Pictures;

/// <summary>What a previous download of the same URL answered, for a conditional request.</summary>
public sealed record PictureValidators(string? ETag, DateTimeOffset? LastModified);

/// <summary>The outcome of one picture download.</summary>
public abstract record PictureFetch
{
    /// <summary>The picture's bytes (sniffed as an image) and what to send next time to ask whether it changed.</summary>
    public sealed record Fetched(byte[] Bytes, PictureValidators Validators) : PictureFetch;

    /// <summary>The server says the picture is the one downloaded before.</summary>
    public sealed record NotModified : PictureFetch;

    /// <summary>Why there is no picture: "404 Not Found", "timed out after 15 s", "address refused: …", ….</summary>
    public sealed record Failed(string Reason) : PictureFetch;
}

/// <summary>
/// Downloads a catalog row's picture by URL: http(s) only, the allowed hosts only, at most
/// <see cref="ImageFetchOptions.MaxRedirects"/> redirects, a size cap enforced from Content-Length and while the
/// body streams, the content sniffed from its bytes (an HTML page served as image/png is not a picture), and a
/// conditional request when the URL was downloaded before. Addresses are checked by <see cref="GuardedConnector"/>;
/// retries, per-attempt timeouts and a per-host circuit breaker come from the standard resilience handler.
/// </summary>
public sealed class PictureFetcher(IHttpClientFactory clients, IOptions<ImageFetchOptions> options)
{
    public const string ClientName = "pictures";

    public async Task<PictureFetch> FetchAsync(string url, PictureValidators? known, CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            return new PictureFetch.Failed("not an absolute URL");
        var client = clients.CreateClient(ClientName);
        for (var redirects = 0; ; redirects++)
        {
            if (UriRefusal(uri, o) is { } refusal)
                return new PictureFetch.Failed(refusal);
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Accept.ParseAdd("image/*");
            if (known?.ETag is { } etag && EntityTagHeaderValue.TryParse(etag, out var tag))
                request.Headers.IfNoneMatch.Add(tag);
            if (known?.LastModified is { } lastModified)
                request.Headers.IfModifiedSince = lastModified;

            HttpResponseMessage response;
            try
            {
                // The resilience handler times each attempt up to the headers (and retries server errors and timeouts).
                response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (Exception ex) when (Failure(ex, o, cancellationToken) is { } failure)
            {
                return failure;
            }
            using (response)
            {
                if (response.StatusCode is HttpStatusCode.Moved or HttpStatusCode.Redirect or HttpStatusCode.RedirectMethod
                    or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect)
                {
                    if (response.Headers.Location is not { } location)
                        return new PictureFetch.Failed($"{(int)response.StatusCode} redirect without a Location");
                    if (redirects == ImageFetchOptions.MaxRedirects)
                        return new PictureFetch.Failed($"more than {ImageFetchOptions.MaxRedirects} redirects");
                    uri = new Uri(uri, location);
                    continue;
                }
                if (response.StatusCode == HttpStatusCode.NotModified)
                    return new PictureFetch.NotModified();
                if (!response.IsSuccessStatusCode)
                    return new PictureFetch.Failed($"{(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd());
                if (response.Content.Headers.ContentLength > o.MaxBytes)
                    return TooLarge(o, response.Content.Headers.ContentLength);
                byte[]? bytes;
                try
                {
                    // The body gets the same time again: a server that trickles bytes cannot hold a download slot for ever.
                    using var body = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    body.CancelAfter(TimeSpan.FromSeconds(o.TimeoutSeconds));
                    bytes = await ReadCappedAsync(response.Content, o.MaxBytes, body.Token);
                }
                catch (Exception ex) when (Failure(ex, o, cancellationToken) is { } failure)
                {
                    return failure;
                }
                if (bytes is null)
                    return TooLarge(o, null);
                if (ImagePreprocessor.Sniff(bytes) is null)
                    return new PictureFetch.Failed($"not an image (served as {response.Content.Headers.ContentType?.MediaType ?? "no content type"}; the bytes are not JPEG, PNG, WebP or GIF)");
                return new PictureFetch.Fetched(bytes, new PictureValidators(response.Headers.ETag?.ToString(), response.Content.Headers.LastModified));
            }
        }
    }

    /// <summary>Why this URL is not fetched at all (scheme, allowed hosts); null when it may be.</summary>
    static string? UriRefusal(Uri uri, ImageFetchOptions o)
    {
        if (uri.Scheme is not ("http" or "https"))
            return $"address refused: the scheme '{uri.Scheme}' is not http or https";
        if (o.AllowedHosts.Length > 0 && !o.AllowedHosts.Contains(uri.IdnHost, StringComparer.OrdinalIgnoreCase))
            return $"address refused: {uri.IdnHost} is not among Similarity:Imports:ImageFetch:AllowedHosts";
        return null;
    }

    static PictureFetch.Failed TooLarge(ImageFetchOptions o, long? length) =>
        new($"too large: {(length is { } l ? $"{l} bytes" : "more bytes")} than the limit of {o.MaxBytes} (Similarity:Imports:ImageFetch:MaxBytes)");

    /// <summary>The body, or null as soon as it passes <paramref name="maxBytes"/>.</summary>
    static async Task<byte[]?> ReadCappedAsync(HttpContent content, long maxBytes, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var memory = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (memory.Length + read > maxBytes)
                return null;
            memory.Write(buffer, 0, read);
        }
        return memory.ToArray();
    }

    /// <summary>The failure a network exception means for this picture; null when the job itself is being cancelled.</summary>
    static PictureFetch.Failed? Failure(Exception exception, ImageFetchOptions o, CancellationToken job)
    {
        if (job.IsCancellationRequested)
            return null;
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is RefusedAddressException refused)
                return new($"address refused: {refused.Message}");
        }
        return exception switch
        {
            TimeoutRejectedException or OperationCanceledException => new($"timed out after {o.TimeoutSeconds} s"),
            BrokenCircuitException => new("the host failed repeatedly; its pictures are skipped for a while"),
            HttpRequestException http => new($"cannot connect: {http.Message}"),
            IOException io => new($"the download broke off: {io.Message}"),
            _ => null,
        };
    }
}

public static class PictureFetching
{
    /// <summary>The picture client: guarded connections, no proxy (a proxy would connect where the guard never looked), resilience per host.</summary>
    public static IServiceCollection AddPictureFetching(this IServiceCollection services)
    {
        services.AddOptions<ImageFetchOptions>().BindConfiguration(ImageFetchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IHostResolver, GuardedConnector.SystemResolver>();
        services.AddSingleton<ISocketConnector, GuardedConnector.TcpConnector>();
        services.AddSingleton<GuardedConnector>();
        services.AddSingleton<PictureFetcher>();
        services.AddHttpClient(PictureFetcher.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var o = provider.GetRequiredService<IOptions<ImageFetchOptions>>().Value;
                return new SocketsHttpHandler
                {
                    ConnectCallback = provider.GetRequiredService<GuardedConnector>().ConnectAsync,
                    UseProxy = false,
                    AllowAutoRedirect = false, // followed by PictureFetcher, each hop checked
                    AutomaticDecompression = DecompressionMethods.All,
                    MaxConnectionsPerServer = o.MaxConcurrencyPerHost,
                    ConnectTimeout = TimeSpan.FromSeconds(o.TimeoutSeconds),
                    PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                };
            })
            .AddStandardResilienceHandler()
            .Configure((HttpStandardResilienceOptions resilience, IServiceProvider provider) =>
            {
                var attempt = TimeSpan.FromSeconds(provider.GetRequiredService<IOptions<ImageFetchOptions>>().Value.TimeoutSeconds);
                // Retry what may pass on a second try — a server error, a timeout, a connection the host closed under the
                // request — never a 404, a refusal or a bad picture.
                resilience.Retry.ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Result: { } response } => (int)response.StatusCode >= 500,
                    { Exception: TimeoutRejectedException } => true,
                    { Exception: HttpRequestException broken } => BrokenConnection(broken),
                    _ => false,
                });
                resilience.Retry.MaxRetryAttempts = 2;
                resilience.Retry.BackoffType = DelayBackoffType.Exponential;
                resilience.Retry.Delay = TimeSpan.FromMilliseconds(300);
                resilience.AttemptTimeout.Timeout = attempt;
                resilience.TotalRequestTimeout.Timeout = attempt * 3 + TimeSpan.FromSeconds(2);
                resilience.CircuitBreaker.SamplingDuration = attempt * 2 + TimeSpan.FromSeconds(30);
            })
            .SelectPipelineByAuthority();
        return services;
    }

    /// <summary>
    /// A send that failed because the connection broke — the host closed it before or while answering, as a server
    /// that closes after each answer (HTTP/1.0) sometimes does under a pooled client — and may pass on a fresh
    /// connection (the broken one has left the pool). An address the guard refused is never retried.
    /// </summary>
    internal static bool BrokenConnection(HttpRequestException exception)
    {
        for (Exception? inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is RefusedAddressException)
                return false;
        }
        return exception.HttpRequestError is HttpRequestError.ResponseEnded or HttpRequestError.ConnectionError
            || (exception.HttpRequestError == HttpRequestError.Unknown && exception.InnerException is IOException);
    }
}
