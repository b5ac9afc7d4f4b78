namespace Similarity.Health;

/// <summary>
/// <c>dotnet Similarity.Api.dll --healthcheck</c>: asks the service running beside it (in the same container) whether
/// it is ready, and exits 0 or 1 — a container healthcheck that needs no curl in the image. The address is the one
/// the service listens on: the first of ASPNETCORE_URLS, else ASPNETCORE_HTTP_PORTS (as the .NET images set), else 8080.
/// </summary>
public static class HealthProbe
{
    public const string Flag = "--healthcheck";

    public static async Task<int> RunAsync()
    {
        var address = Address(Environment.GetEnvironmentVariable("ASPNETCORE_URLS"), Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync(new Uri(address, "/health/ready"));
            await Console.Out.WriteLineAsync($"{address}health/ready: {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Out.WriteLineAsync($"{address}health/ready: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Where to ask: a wildcard host (0.0.0.0, [::], +, *) is asked on the loopback address.</summary>
    internal static Uri Address(string? urls, string? httpPorts)
    {
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is null)
        {
            var port = httpPorts?.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "8080";
            return new Uri($"http://127.0.0.1:{port}/");
        }
        var wildcard = first.Replace("://+:", "://127.0.0.1:", StringComparison.Ordinal).Replace("://*:", "://127.0.0.1:", StringComparison.Ordinal)
            .Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal).Replace("://[::]:", "://127.0.0.1:", StringComparison.Ordinal);
        return new Uri(wildcard.TrimEnd('/') + "/");
    }
}
