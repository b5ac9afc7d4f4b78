using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Npgsql;
using Pgvector;
using Similarity.Similar;

namespace Similarity.Bench;

/// <summary>
/// Freshness at the API: from a write's commit (its reply) to the first <c>GET /similar</c> answer that reflects it, for
/// a page the written item should enter and one it should leave. Each write has its own poller, which asks the page
/// every 10 ms until the answer shows the change (or <see cref="Patience"/> passes). Writes by SQL at a set rate, or
/// through <c>PUT</c>/<c>DELETE /items</c> as fast as the service takes them.
/// </summary>
public static class SimilarFreshness
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(30), PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>What the pollers saw: milliseconds from commit to the first answer that reflected the change, and its source.</summary>
    sealed class Seen
    {
        public ConcurrentBag<double> Milliseconds { get; } = [];
        public ConcurrentDictionary<string, int> Sources { get; } = new();
        public int Missed, Superseded;

        /// <summary>A few of the changes not seen: the page, the item, which way it should have moved, and the last answer.</summary>
        public ConcurrentQueue<string> MissedSamples { get; } = new();

        public string Describe()
        {
            var ms = Milliseconds.Order().ToArray();
            var total = ms.Length + Missed; // superseded changes are left out: a later write undid what was watched
            string P(double p)
            {
                var rank = Math.Max(1, (int)Math.Ceiling(p * total));
                return rank <= ms.Length ? FormattableString.Invariant($"{ms[rank - 1]:F0} ms") : $"> {Patience.TotalSeconds:F0} s";
            }
            var sources = string.Join(", ", Sources.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Value} {s.Key}"));
            var missed = MissedSamples.IsEmpty ? "" : $"; not seen, e.g.: {string.Join("; ", MissedSamples.Take(3))}";
            return $"p50 {P(0.50)}, p95 {P(0.95)}, p99 {P(0.99)} over {total} changes ({Missed} not seen in {Patience.TotalSeconds:F0} s; {Superseded} more left out, superseded by a later write to the page's or the item's vectors); first answers that showed them: {sources}{missed}";
        }
    }

    /// <summary>
    /// <paramref name="rate"/> writes per second for <paramref name="seconds"/> by SQL, alternately: a random item moved beside a
    /// random page's item (it must come first on that page), and a page's first result moved opposite it (it must leave).
    /// </summary>
    public static async Task<string> BySqlAsync(string connection, Uri url, int items, int rate, int seconds)
    {
        var builder = new NpgsqlDataSourceBuilder(connection);
        builder.UseVector();
        await using var dataSource = builder.Build();
        int imageDimension, textDimension;
        await using (var dims = dataSource.CreateCommand("SELECT vector_dims(image_embedding), vector_dims(text_embedding) FROM items WHERE sku = $1"))
        {
            dims.Parameters.Add(new() { Value = SimilarBenchmark.Sku(0) });
            await using var reader = await dims.ExecuteReaderAsync();
            await reader.ReadAsync();
            (imageDimension, textDimension) = (reader.GetInt32(0), reader.GetInt32(1));
        }
        using var http = new HttpClient { BaseAddress = url };
        var random = new Random(2024 + rate);
        // Each write's page and item drawn without replacement: a later write never moves an earlier one's page or item,
        // which would undo the change being watched.
        var order = Enumerable.Range(0, items).OrderBy(_ => random.Next()).ToArray();
        var seen = new Seen();
        var watch = Stopwatch.StartNew();
        var checks = new List<Task>();
        var moves = new ConcurrentDictionary<string, int>(StringComparer.Ordinal); // writes per item, so far
        for (var i = 0; i < rate * seconds; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate) - watch.Elapsed;
            if (due > TimeSpan.Zero)
                await Task.Delay(due);
            var (page, other, enter, seed) = (SimilarBenchmark.Sku(order[2 * i % items]), SimilarBenchmark.Sku(order[(2 * i + 1) % items]), i % 2 == 0, i);
            checks.Add(Task.Run(async () =>
            {
                // Enter: `other` beside the page's item. Leave: the page's first result opposite it.
                var moved = enter ? other : (await PageAsync(http, page)).Results[0].Sku;
                if (moved == page)
                    return;
                await using var update = dataSource.CreateCommand($"""
                    WITH p AS (SELECT image_embedding AS i, text_embedding AS t FROM items WHERE sku = $2),
                         v AS (SELECT l2_normalize({(enter ? "p.i + $3" : "$3 - p.i")}) AS i, l2_normalize({(enter ? "p.t + $4" : "$4 - p.t")}) AS t FROM p)
                    UPDATE items SET image_embedding = v.i, text_embedding = v.t, embedding = l2_normalize(v.i + v.t) FROM v WHERE items.sku = $1
                    """);
                update.CommandTimeout = 0; // a write queued behind the worker's round still counts from its commit
                update.Parameters.Add(new() { Value = moved });
                update.Parameters.Add(new() { Value = page });
                update.Parameters.Add(new() { Value = new Vector(Noise(new Random(2 * seed), imageDimension)) });
                update.Parameters.Add(new() { Value = new Vector(Noise(new Random(2 * seed + 1), textDimension)) });
                await update.ExecuteNonQueryAsync();
                moves.AddOrUpdate(moved, 1, (_, n) => n + 1);
                await WatchAsync(http, seen, page, moved, enter, () => moves.ContainsKey(page) || moves[moved] > 1);
            }));
        }
        await Task.WhenAll(checks);
        return FormattableString.Invariant($"{rate * seconds} writes by SQL at {rate}/s: ") + seen.Describe();
    }

    /// <summary>
    /// Through the API, one write at a time from each of <paramref name="writers"/> writers (the encoders set the pace):
    /// <paramref name="count"/> anchors are PUT and folded into the lists first; then per anchor a PUT of a twin (the same
    /// title, so the same vectors: it must come first on the anchor's page), and its DELETE (it must leave).
    /// </summary>
    public static async Task<string> ByApiAsync(string connection, Uri url, string adminKey, int count, int writers = 2)
    {
        using var admin = new HttpClient { BaseAddress = url };
        admin.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
        using var http = new HttpClient { BaseAddress = url };
        string Title(int i) => FormattableString.Invariant($"freshness anchor {i} {Words[i % Words.Length]} {Words[i / Words.Length % Words.Length]} {Words[i * 7 % Words.Length]}");
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = writers },
            async (i, ct) => await PutAsync(admin, $"fa-{i}", Title(i), ct));
        await FoldedAsync(connection);

        var (entered, left) = (new Seen(), new Seen());
        var watch = Stopwatch.StartNew();
        var checks = new ConcurrentBag<Task>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = writers }, async (i, ct) =>
        {
            var (anchor, twin) = ($"fa-{i}", $"fb-{i}");
            await PutAsync(admin, twin, Title(i), ct);
            // The DELETE waits until the twin was seen (or patience ran out): else it could undo the change being watched.
            await WatchAsync(http, entered, anchor, twin, enter: true);
            using var deleted = await admin.DeleteAsync(new Uri($"/items/{twin}", UriKind.Relative), ct);
            deleted.EnsureSuccessStatusCode();
            checks.Add(WatchAsync(http, left, anchor, twin, enter: false));
        });
        var rate = 2 * count / watch.Elapsed.TotalSeconds;
        await Task.WhenAll(checks);
        foreach (var i in Enumerable.Range(0, count))
            (await admin.DeleteAsync(new Uri($"/items/fa-{i}", UriKind.Relative))).Dispose();
        return FormattableString.Invariant($"{count} PUTs and {count} DELETEs through the API ({rate:F1} writes/s, {writers} writers): entering ") + entered.Describe()
            + "; leaving " + left.Describe();
    }

    static readonly string[] Words = ["red", "blue", "green", "wool", "linen", "leather", "lamp", "mug", "shirt", "boot", "chair", "kettle", "scarf"];

    static async Task PutAsync(HttpClient admin, string sku, string title, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent { { new StringContent(title), "title" } };
        using var response = await admin.PutAsync(new Uri($"/items/{sku}", UriKind.Relative), form, ct);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Waits until the worker has folded every queued change into the lists.</summary>
    static async Task FoldedAsync(string connection)
    {
        await using var dataSource = NpgsqlDataSource.Create(connection);
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM similar_list_queue");
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while ((long)(await command.ExecuteScalarAsync())! > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
    }

    static async Task<SimilarApi.SimilarResponse> PageAsync(HttpClient http, string page) =>
        (await http.GetFromJsonAsync<SimilarApi.SimilarResponse>(new Uri($"/similar/{page}?k=10", UriKind.Relative)))!;

    /// <summary>
    /// Asks <paramref name="page"/> from now (the write's commit) every <see cref="PollInterval"/> until an answer shows the change: at
    /// 200 writes/s, asking back to back would itself be a load that slows the writes it measures. <paramref name="enter"/>:
    /// the change shows when <paramref name="item"/> is on the page (moved beside the page's item, it belongs first, but an
    /// earlier run's writes may have put another item as close); else when it is gone from it. <paramref name="superseded"/>:
    /// whether a later write moved the page's item or the item again, so that a change not seen is left out, not missed.
    /// </summary>
    static async Task WatchAsync(HttpClient http, Seen seen, string page, string item, bool enter, Func<bool>? superseded = null)
    {
        var since = Stopwatch.StartNew();
        SimilarApi.SimilarResponse? answer = null;
        int Position() => answer!.Results.Select(r => r.Sku).ToList().IndexOf(item);
        while (since.Elapsed < Patience)
        {
            answer = await PageAsync(http, page);
            if (enter ? Position() >= 0 : Position() < 0)
            {
                seen.Milliseconds.Add(since.Elapsed.TotalMilliseconds);
                seen.Sources.AddOrUpdate(answer.Source, 1, (_, n) => n + 1);
                return;
            }
            await Task.Delay(PollInterval);
        }
        if (superseded?.Invoke() == true)
        {
            Interlocked.Increment(ref seen.Superseded);
            return;
        }
        Interlocked.Increment(ref seen.Missed);
        if (seen.MissedSamples.Count < 3)
            seen.MissedSamples.Enqueue($"{item} to {(enter ? "enter" : "leave")} {page}'s page, last answer {answer?.Source} with it at {(answer is null ? "?" : Position().ToString(System.Globalization.CultureInfo.InvariantCulture))}");
    }

    /// <summary>A small random vector: added to a unit vector and normalised, it moves it to cos ≈ 0.999.</summary>
    static float[] Noise(Random random, int dimension) =>
        [.. Enumerable.Range(0, dimension).Select(_ => (float)(0.05 / Math.Sqrt(dimension) * (random.NextDouble() * 2 - 1) * Math.Sqrt(3)))];
}
