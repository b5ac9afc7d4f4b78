using System.Diagnostics;
using System.Net.Sockets;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Cli;

/// <summary><c>./similarity.sh run</c> as a person runs it: the script's process is the API's, so stopping one stops the other.</summary>
public sealed class RunScriptTests : IAsyncLifetime
{
    TestDatabase _database = null!;
    readonly string _spool = Directory.CreateTempSubdirectory("similarity-run-spool-").FullName;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync();

    [Theory]
    [InlineData("TERM")] // a service manager's stop, or Ctrl-C's cousin: the API shuts down gracefully
    [InlineData("KILL")] // no chance to forward anything: only a process that *is* the API takes the API with it
    public async Task Stopping_the_script_stops_the_api_it_started(string signal)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("bash", [Path.Combine(TestPaths.Root, "similarity.sh"), "run"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ConnectionStrings__Similarity"] = _database.ConnectionString,
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["Similarity__AdminApiKey"] = SimilarityApp.AdminKey,
                ["Similarity__Models__Manifest"] = TestPaths.TinyManifest,
                ["Similarity__Imports__SpoolPath"] = _spool,
            },
        };
        using var script = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        script.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        script.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow.AddMinutes(3); // the script builds the service first
            while (!await AnswersAsync(http))
            {
                Assert.False(script.HasExited, "the script ended before the API answered:\n" + output);
                Assert.True(DateTime.UtcNow < deadline, "the API never answered:\n" + output);
                await Task.Delay(200);
            }

            // The pages are served from the build output the script runs, not only from the project in tests.
            var home = await http.GetAsync("/");
            Assert.True(home.IsSuccessStatusCode && (await home.Content.ReadAsStringAsync()).Contains("<h1>Catalog</h1>", StringComparison.Ordinal),
                $"GET / answered {(int)home.StatusCode}");

            using (var kill = Process.Start("kill", ["-" + signal, script.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await kill.WaitForExitAsync();
            await script.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

            if (signal == "TERM")
                Assert.Equal(0, script.ExitCode); // the API's own graceful shutdown
            Assert.False(await AcceptsAsync(port), "the API's port still takes connections after its script was stopped");
        }
        finally
        {
            if (!script.HasExited)
                script.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Whether the API answers yet: a refused connection or a slow first answer (a busy machine) is a "not yet".</summary>
    static async Task<bool> AnswersAsync(HttpClient http)
    {
        try
        {
            return (await http.GetAsync("/health/live")).IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException { InnerException: SocketException } or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>Whether anything listens on the port: once the API is gone, a connection is refused at once.</summary>
    static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return false;
        }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        Directory.Delete(_spool, recursive: true);
    }
}
