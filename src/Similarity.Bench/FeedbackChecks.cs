using System.Diagnostics;
using System.Text.Json;
using Similarity.Feedback;

namespace Similarity.Bench;

/// <summary>The A/A experiment's outcome as GET /experiments/aa says it: impressions, win rate and its interval (null where absent).</summary>
public sealed record AaOutcome(int Sessions, int Clicks, double? Impressions, double? WinRate, double? Low, double? High, string Raw);

/// <summary>How long an event took to change an answer: to the rebuild's end, to /co-engaged, to /similar (null: not within the limit).</summary>
public sealed record Freshness(string Sku, string Other, int Visitors, double RebuildSeconds, double? CoEngagedSeconds, double? SimilarSeconds);

/// <summary>
/// The checks of <c>bench feedback</c> beside the offline measures: an A/A interleaving of the default ranker against
/// itself on every /similar answer, and the time from a fresh pair's co-engagement burst to a changed answer.
/// </summary>
public static class FeedbackChecks
{
    public const string AaExperiment = "aa";
    public static readonly TimeSpan AnswerLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// PUT /experiments/aa with the same blend on both sides and share 1; <paramref name="sessions"/> one-page visits
    /// (each shopper's clicks by the hidden taste and position bias, sent with the list's requestId and position);
    /// then GET /experiments/aa, asked again until it counts every served list (the served log is written off the
    /// request path) or <see cref="AnswerLimit"/> passes; the experiment is stopped after.
    /// </summary>
    public static async Task<AaOutcome> AaAsync(FeedbackClient client, ShopperTaste taste, int sessions)
    {
        var blend = new FeedbackOptions().Blend;
        await client.StartExperimentAsync(AaExperiment, new { blend }, new { blend }, 1.0);
        var world = taste.World;
        var events = new List<ShopperEvent>();
        var clicks = 0;
        // The visits' clicks spread over the last hour (0.3 s apart), so no shopper looks like a bot to the loop.
        var first = DateTimeOffset.UtcNow.AddHours(-1);
        for (var chunk = 0; chunk < sessions; chunk += 1000)
        {
            var results = new (ShopperSession Session, List<ShopperEvent> Events)[Math.Min(1000, sessions - chunk)];
            await Parallel.ForEachAsync(Enumerable.Range(0, results.Length), new ParallelOptions { MaxDegreeOfParallelism = FeedbackTraining.Concurrency }, async (i, _) =>
            {
                var n = chunk + i;
                var shopper = world.Shoppers[n % world.Shoppers.Count];
                var session = ShopperSession.Start(taste, shopper, new Random(ShopperSession.SeedOf(world.Seed, -1, n)));
                var answer = await client.ServeAsync(session.Landing, shopper.VisitorId);
                session.React(answer.RequestId, answer.Results);
                results[i] = (session, ShopperEvents.Of(session, $"aa{n}", first + n * TimeSpan.FromSeconds(0.3)).Where(e => e.Type == "click").ToList());
            });
            clicks += results.Sum(r => r.Events.Count);
            events.AddRange(results.SelectMany(r => r.Events));
            await client.SendAsync(events);
            events.Clear();
        }
        var watch = Stopwatch.StartNew();
        JsonElement answer;
        while (true)
        {
            answer = await client.ExperimentAsync(AaExperiment);
            if (FindNumber(answer, "impressions") >= sessions || watch.Elapsed > AnswerLimit)
                break;
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
        await client.StopExperimentAsync(AaExperiment);
        var (low, high) = Interval(answer);
        return new AaOutcome(sessions, clicks, FindNumber(answer, "impressions"), FindNumber(answer, "winRate"), low, high, answer.ToString());
    }

    /// <summary>
    /// Two items no visitor engaged with in training, of different folders, the second not in the first's top 10:
    /// twice the minimum of distinct fresh visitors view both and put the second in the cart; then POST
    /// /feedback/rebuild, and GET /co-engaged and /similar (default blend) asked until the pair shows or the limit passes.
    /// </summary>
    public static async Task<Freshness?> FreshnessAsync(FeedbackClient client, ShopperWorld world, IReadOnlyDictionary<string, int> coVisitors)
    {
        var unseen = world.Items.Where(i => !coVisitors.ContainsKey(i.Sku) && world.ComplementOf(i.Sku) is null).ToArray();
        if (unseen.Length < 2)
            unseen = [.. world.Items.OrderBy(i => coVisitors.GetValueOrDefault(i.Sku)).ThenBy(i => i.Sku, StringComparer.Ordinal).Take(50)];
        var sku = unseen[0];
        var top = (await client.TopAsync([sku.Sku], null)).GetValueOrDefault(sku.Sku) ?? [];
        if (unseen.FirstOrDefault(i => i.Folder != sku.Folder && !top.Contains(i.Sku)) is not { } other)
            return null;
        var visitors = 2 * new FeedbackOptions().MinCoVisitors;
        var now = DateTimeOffset.UtcNow.AddMinutes(-1);
        var burst = Enumerable.Range(0, visitors).SelectMany(v =>
        {
            var (visitor, session) = ($"fresh-{world.Seed}-{v}", $"fresh-{world.Seed}-{v}-s");
            return new[]
            {
                new ShopperEvent($"{session}-0", "view", visitor, session, sku.Sku, now),
                new ShopperEvent($"{session}-1", "view", visitor, session, other.Sku, now + ShopperClock.ActionGap),
                new ShopperEvent($"{session}-2", "addToCart", visitor, session, other.Sku, now + 2 * ShopperClock.ActionGap),
            };
        }).ToArray();
        var watch = Stopwatch.StartNew();
        await client.SendAsync(burst);
        await client.RebuildAsync();
        var rebuilt = watch.Elapsed.TotalSeconds;
        double? coEngaged = null, similar = null;
        while (watch.Elapsed < AnswerLimit + TimeSpan.FromSeconds(rebuilt) && (coEngaged is null || similar is null))
        {
            if (coEngaged is null && (await client.CoEngagedAsync(sku.Sku)).Contains(other.Sku))
                coEngaged = watch.Elapsed.TotalSeconds;
            if (similar is null && ((await client.TopAsync([sku.Sku], null)).GetValueOrDefault(sku.Sku) ?? []).Contains(other.Sku))
                similar = watch.Elapsed.TotalSeconds;
            if (coEngaged is null || similar is null)
                await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
        return new Freshness(sku.Sku, other.Sku, visitors, rebuilt, coEngaged, similar);
    }

    /// <summary>The first number named <paramref name="name"/> (any case) anywhere in <paramref name="e"/>.</summary>
    public static double? FindNumber(JsonElement e, string name)
    {
        if (e.ValueKind == JsonValueKind.Object)
            foreach (var p in e.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.Number && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
                    return p.Value.GetDouble();
                if (FindNumber(p.Value, name) is { } found)
                    return found;
            }
        if (e.ValueKind == JsonValueKind.Array)
            foreach (var item in e.EnumerateArray())
                if (FindNumber(item, name) is { } found)
                    return found;
        return null;
    }

    /// <summary>The win rate's 95% interval: a property whose name holds "interval", as [low, high] or {low|lower, high|upper}.</summary>
    public static (double? Low, double? High) Interval(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
            return (null, null);
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name.Contains("interval", StringComparison.OrdinalIgnoreCase))
            {
                if (p.Value.ValueKind == JsonValueKind.Array && p.Value.GetArrayLength() == 2)
                    return (p.Value[0].GetDouble(), p.Value[1].GetDouble());
                if (p.Value.ValueKind == JsonValueKind.Object)
                    return (FindNumber(p.Value, "low") ?? FindNumber(p.Value, "lower"), FindNumber(p.Value, "high") ?? FindNumber(p.Value, "upper"));
            }
            if (p.Value.ValueKind == JsonValueKind.Object && Interval(p.Value) is { Low: not null } inner)
                return inner;
        }
        return (null, null);
    }
}
