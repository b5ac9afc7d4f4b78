using System.Collections.Concurrent;
using System.Diagnostics;

namespace Similarity.Bench;

/// <summary>
/// The load of <c>bench ha</c>: readers calling /similar on every instance, and one writer PUTting new items in turn
/// on each instance. Every answer is counted in the phase current when it came; a PUT counts as acknowledged only
/// when it answered 2xx, and the writer notes the times of the acknowledgements for the phase's longest gap. After
/// each acknowledged PUT the writer reads its item back (admin key and the PUT's <c>X-Consistency-Token</c>): the
/// read-your-writes count.
/// </summary>
public sealed class HaLoad(IReadOnlyList<Uri> instances, int items, int readersPerInstance)
{
    readonly CancellationTokenSource _stop = new();
    readonly ConcurrentQueue<string> _acknowledged = new();
    HaPhase _phase = new("warm-up");
    long _lastAcknowledgement = Stopwatch.GetTimestamp();

    public IReadOnlyCollection<string> Acknowledged => _acknowledged;

    /// <summary>Ends the current phase and starts the next; the gap before the first acknowledgement counts in the new one.</summary>
    public HaPhase Begin(string name)
    {
        _phase.End();
        _phase = new HaPhase(name);
        return _phase;
    }

    public Task RunAsync() => Task.WhenAll(instances
        .SelectMany(url => Enumerable.Range(0, readersPerInstance).Select(r => ReadAsync(url, r)))
        .Append(WriteAsync()));

    public async Task StopAsync(Task running)
    {
        await _stop.CancelAsync();
        await running;
    }

    /// <summary>Waits until <paramref name="count"/> more PUTs are acknowledged in the current phase.</summary>
    public async Task WaitForWritesAsync(int count, TimeSpan limit)
    {
        var phase = _phase;
        var target = phase.Writes + count;
        var clock = Stopwatch.StartNew();
        while (phase.Writes < target)
        {
            if (clock.Elapsed > limit)
                throw new TimeoutException($"{count} PUTs not acknowledged within {limit.TotalSeconds} s in phase '{phase.Name}'");
            await Task.Delay(50);
        }
    }

    async Task ReadAsync(Uri url, int reader)
    {
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };
        var random = new Random(reader * 7919 + url.Port);
        while (!_stop.IsCancellationRequested)
        {
            var phase = _phase;
            try
            {
                using var response = await http.GetAsync($"/similar/{SimilarBenchmark.Sku(random.Next(items))}", _stop.Token);
                var servedBy = response.Headers.TryGetValues("X-Served-By", out var values) ? values.FirstOrDefault() : null;
                phase.Read(response.IsSuccessStatusCode, servedBy);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
                phase.Read(false, null);
            }
        }
    }

    async Task WriteAsync()
    {
        var clients = instances.Select(url => new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) }).ToList();
        foreach (var client in clients)
            client.DefaultRequestHeaders.Add("X-Api-Key", BenchPlace.AdminKey);
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            var sku = $"ha-put-{i:D6}";
            using var form = new MultipartFormDataContent { { new StringContent($"written under faults {i}"), "title" } };
            try
            {
                using var response = await clients[i % clients.Count].PutAsync($"/items/{sku}", form, _stop.Token);
                if (!response.IsSuccessStatusCode)
                {
                    await Task.Delay(20); // a 503 while there is no primary: asked again soon, not in a tight loop
                    continue;
                }
                _acknowledged.Enqueue(sku);
                var now = Stopwatch.GetTimestamp();
                _phase.Acknowledged(Stopwatch.GetElapsedTime(Interlocked.Exchange(ref _lastAcknowledgement, now), now));
                var token = response.Headers.TryGetValues("X-Consistency-Token", out var tokens) ? tokens.First() : null;
                _phase.ReadBack(await ReadsBackAsync(clients[i % clients.Count], sku, token));
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(20); // refused or timed out: the gap grows until a PUT is acknowledged again
            }
        }
        clients.ForEach(c => c.Dispose());
    }

    /// <summary>Whether the item just written is there when read right after, through the same instance.</summary>
    async Task<ReadBack> ReadsBackAsync(HttpClient client, string sku, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/items/{sku}");
        if (token is not null)
            request.Headers.Add("X-Consistency-Token", token);
        try
        {
            using var response = await client.SendAsync(request, _stop.Token);
            return response.IsSuccessStatusCode ? ReadBack.Seen : response.StatusCode == System.Net.HttpStatusCode.NotFound ? ReadBack.Stale : ReadBack.Failed;
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
        {
            return ReadBack.Failed;
        }
    }
}

/// <summary>One phase's counts: /similar answers (and which a standby served), acknowledged PUTs and their longest gap.</summary>
public sealed class HaPhase(string name)
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    long _answers, _ok, _standby, _writes, _longestGapTicks, _readBack, _readBackSeen, _readBackStale;

    public string Name => name;
    public long Writes => Interlocked.Read(ref _writes);

    public void Read(bool ok, string? servedBy)
    {
        Interlocked.Increment(ref _answers);
        if (ok)
            Interlocked.Increment(ref _ok);
        if (ok && servedBy == "standby")
            Interlocked.Increment(ref _standby);
    }

    public void Acknowledged(TimeSpan sincePrevious)
    {
        Interlocked.Increment(ref _writes);
        long seen;
        while (sincePrevious.Ticks > (seen = Interlocked.Read(ref _longestGapTicks)))
            if (Interlocked.CompareExchange(ref _longestGapTicks, sincePrevious.Ticks, seen) == seen)
                break;
    }

    public void ReadBack(ReadBack outcome)
    {
        Interlocked.Increment(ref _readBack);
        if (outcome == Bench.ReadBack.Seen)
            Interlocked.Increment(ref _readBackSeen);
        if (outcome == Bench.ReadBack.Stale)
            Interlocked.Increment(ref _readBackStale);
    }

    public void End() => _clock.Stop();

    public string Row()
    {
        var ok = _answers == 0 ? 0 : 100.0 * _ok / _answers;
        var standby = _ok == 0 ? 0 : 100.0 * _standby / _ok;
        return $"| {name} | {HaRun.Seconds(_clock.Elapsed)} | {_answers} | {ok:F2}% | {standby:F1}% | {HaRun.Seconds(TimeSpan.FromTicks(_longestGapTicks))} s | {_writes} | {_readBackSeen} of {_readBack} ({_readBackStale} saw the past) |";
    }
}

/// <summary>A read of one's own write: the item there, not yet there (404: the past), or no answer (an error).</summary>
public enum ReadBack { Seen, Stale, Failed }
