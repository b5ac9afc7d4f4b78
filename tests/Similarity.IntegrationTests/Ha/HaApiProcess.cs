using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Ha;

/// <summary>
/// The built service as a real process (<c>dotnet Similarity.Api.dll</c> from its Release output), on a loopback port
/// of its own, so that a test can kill it with SIGKILL as an instance dies: no shutdown code runs. Killed when disposed.
/// </summary>
public sealed class HaApiProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly string _logPath;

    HaApiProcess(Process process, Uri url, string logPath) => (_process, Url, _logPath) = (process, url, logPath);

    public Uri Url { get; }

    public static async Task<HaApiProcess> StartAsync(string connectionString, string spool, string name)
    {
        var output = Path.Combine(TestPaths.Root, "src", "Similarity.Api", "bin", "Release", "net10.0");
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var logPath = Path.Combine(spool, name + ".log");
        var start = new ProcessStartInfo("dotnet", ["Similarity.Api.dll"])
        {
            WorkingDirectory = output, RedirectStandardOutput = true, RedirectStandardError = true,
            Environment =
            {
                ["ConnectionStrings__Similarity"] = connectionString,
                ["ASPNETCORE_URLS"] = url.ToString(),
                ["Similarity__AdminApiKey"] = SimilarityApp.AdminKey,
                ["Similarity__Models__Manifest"] = TestPaths.TinyManifest,
                ["Similarity__Imports__SpoolPath"] = spool,
                ["Similarity__Models__StorePath"] = Path.Combine(spool, "model-sets"),
                ["Similarity__Imports__BatchSize"] = "8",
            },
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var api = new HaApiProcess(process, url, logPath);
        await api.WaitReadyAsync();
        return api;
    }

    public HttpClient CreateAdminClient()
    {
        var client = new HttpClient { BaseAddress = Url };
        client.DefaultRequestHeaders.Add("X-Api-Key", SimilarityApp.AdminKey);
        return client;
    }

    /// <summary>SIGKILL: the process ends at once, its connections (and the advisory locks they hold) with it.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    async Task WaitReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the service exited {_process.ExitCode}; its log: {_logPath}");
            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                    return;
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or too busy to answer in time: asked again below.
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the service at {Url} was not ready in 120 s; its log: {_logPath}");
            await Task.Delay(200);
        }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            await KillAsync();
        _process.Dispose();
    }
}
