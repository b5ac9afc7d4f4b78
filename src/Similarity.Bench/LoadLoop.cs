using System.Diagnostics;

namespace Similarity.Bench;

/// <summary>What a load loop measured: requests answered, their latencies (sorted, ms), the statuses, the seconds it ran.</summary>
public sealed record LoadResult(double Seconds, double[] Milliseconds, IReadOnlyDictionary<int, int> Statuses)
{
    public int Requests => Milliseconds.Length;
    public double RequestsPerSecond => Requests / Seconds;
    public int NotSuccessful => Statuses.Where(s => s.Key is < 200 or > 299).Sum(s => s.Value);
    public double P(double percentile) => Stats.Percentile(Milliseconds, percentile);

    /// <summary>"200: 1234, 429: 56", by status.</summary>
    public string StatusList => string.Join(", ", Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"));
}

/// <summary>
/// Load for the benchmarks, in-process: <c>connections</c> workers on one pooled HttpClient, each sending its next request
/// when the previous one is answered (a closed loop, as wrk does), or no faster than <c>perWorkerPerSecond</c> (as
/// <c>hey -q</c> does). Bounded in time and in requests, and only ever to a loopback address.
/// </summary>
public static class LoadLoop
{
    public static async Task<LoadResult> RunAsync(Uri baseUrl, Func<Random, HttpRequestMessage> request, int connections, TimeSpan duration,
        double perWorkerPerSecond = 0, int maxRequests = 10_000_000, int seed = 42)
    {
        if (!baseUrl.IsLoopback)
            throw new ArgumentException($"{baseUrl} is not a loopback address: the benchmarks load this machine's services only.", nameof(baseUrl));
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        var sent = 0;
        var watch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(w => Task.Run(async () =>
        {
            var random = new Random(seed + w);
            var latencies = new List<double>();
            var statuses = new Dictionary<int, int>();
            var gap = perWorkerPerSecond > 0 ? TimeSpan.FromSeconds(1 / perWorkerPerSecond) : TimeSpan.Zero;
            var due = watch.Elapsed;
            while (watch.Elapsed < duration && Interlocked.Increment(ref sent) <= maxRequests)
            {
                if (gap > TimeSpan.Zero)
                {
                    if (due > watch.Elapsed)
                        await Task.Delay(due - watch.Elapsed);
                    due += gap;
                }
                using var message = request(random);
                var started = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead);
                    status = (int)response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    status = 0; // the connection was refused or broken: counted, not thrown
                }
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
            }
            return (latencies, statuses);
        })).ToArray();
        var done = await Task.WhenAll(workers);
        var seconds = watch.Elapsed.TotalSeconds;
        var all = done.SelectMany(d => d.statuses).GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Sum(s => s.Value));
        return new LoadResult(seconds, [.. done.SelectMany(d => d.latencies).Order()], all);
    }

    /// <summary>GET of a path the function makes from the worker's seeded random numbers.</summary>
    public static Func<Random, HttpRequestMessage> Get(Func<Random, string> path) =>
        random => new HttpRequestMessage(HttpMethod.Get, new Uri(path(random), UriKind.Relative));
}
