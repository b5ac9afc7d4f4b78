using System.Diagnostics;

namespace Similarity.Bench;

/// <summary>
/// The built service (Release) started for a benchmark as a deployment runs it: <c>dotnet Similarity.Api.dll</c> from its
/// output folder, request logging off, its log in a file. Ready once <c>/health/ready</c> says Healthy — not just ready:
/// the HNSW index is built in the background after start, and until it is valid /similar scans exactly. The process is
/// killed when disposed, and when the benchmark's own process exits.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly StreamWriter _log;
    readonly string _logPath;

    public Uri Url { get; }
    public int Pid => _process.Id;

    ServiceProcess(Process process, Uri url, string logPath, StreamWriter log) => (_process, Url, _logPath, _log) = (process, url, logPath, log);

    /// <summary>The settings every benchmark's service has; <paramref name="settings"/> adds or overrides (as configuration keys, <c>Similarity:Search:ListSize</c>).</summary>
    public static async Task<ServiceProcess> StartAsync(BenchPlace place, string connectionString, string manifest, string url, string logName,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var output = Path.Combine(place.Root, "src", "Similarity.Api", "bin", "Release", "net10.0");
        var start = new ProcessStartInfo("dotnet", ["Similarity.Api.dll", "--Logging:LogLevel:Similarity.Requests=Warning"])
        {
            WorkingDirectory = output,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ConnectionStrings__Similarity"] = connectionString,
                ["Similarity__Models__Manifest"] = manifest,
                ["ASPNETCORE_URLS"] = url,
                ["Similarity__AdminApiKey"] = BenchPlace.AdminKey,
                ["Similarity__Imports__SpoolPath"] = Path.Combine(place.DataDir, "bench-spool"),
            },
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        var logPath = Path.Combine(place.DataDir, logName);
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Kill(process);
        var service = new ServiceProcess(process, new Uri(url), logPath, log);
        await service.WaitHealthyAsync(TimeSpan.FromMinutes(30));
        return service;
    }

    static void Write(StreamWriter log, string? line)
    {
        if (line is null)
            return;
        lock (log)
            log.WriteLine(line);
    }

    async Task WaitHealthyAsync(TimeSpan limit)
    {
        Console.Error.WriteLine($"waiting for the service at {Url} and its HNSW index (its log: {_logPath})");
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(10) };
        var watch = Stopwatch.StartNew();
        var last = "no answer yet";
        while (true)
        {
            ThrowIfExited();
            try
            {
                if ((await http.GetStringAsync("/health/ready")).StartsWith("{\"status\":\"Healthy\"", StringComparison.Ordinal))
                    return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message; // not listening yet, or not ready (503): asked again in a second
            }
            if (watch.Elapsed > limit)
                throw new TimeoutException($"the service was not ready after {limit.TotalMinutes:F0} minutes ({last}; its log: {_logPath})");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Throws with the log's last lines when the service has stopped.</summary>
    public void ThrowIfExited()
    {
        if (!_process.HasExited)
            return;
        string[] tail;
        lock (_log)
            tail = File.ReadAllLines(_logPath).TakeLast(20).ToArray();
        throw new InvalidOperationException($"the service stopped (exit {_process.ExitCode}):\n{string.Join('\n', tail)}");
    }

    /// <summary>Resident memory now (<c>VmRSS</c>) or at its peak (<c>VmHWM</c>), in KiB.</summary>
    public long MemoryKib(string field = "VmRSS") =>
        File.ReadLines($"/proc/{Pid}/status").Where(l => l.StartsWith(field + ":", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture)).Single();

    /// <summary>The CPU time the service has used so far, user and system.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    public async ValueTask DisposeAsync()
    {
        Kill(_process);
        await _process.WaitForExitAsync();
        lock (_log)
            _log.Dispose();
        _process.Dispose();
    }

    static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            return; // it ended between the check and the kill
        }
    }
}
