using System.Collections.Concurrent;

namespace Similarity.Bench;

/// <summary>What the training days did: the visits (visitor and the items engaged in each), lists served, events' outcomes.</summary>
public sealed record TrainingLog(IReadOnlyList<(string Visitor, IReadOnlyCollection<string> Items)> Visits, int Served, int Events, EventOutcomes Outcomes);

/// <summary>
/// The training days 1..D of <c>bench feedback</c> (before the new items arrive): each day every shopper visits with their visit rate; a visit asks
/// GET /similar/{sku}?visitorId= on each page it is on (the service's default ranker, with its exploration) and reacts
/// to the list; the day's events go to POST /events in batches of 1 000 (timestamps on the <see cref="ShopperClock"/>),
/// then POST /feedback/rebuild, so later days are served what the loop learned from earlier ones.
/// </summary>
public static class FeedbackTraining
{
    /// <summary>Visits run side by side: the service answers several at once, as a shop's backends would ask.</summary>
    public const int Concurrency = 8;

    public static async Task<TrainingLog> RunAsync(FeedbackClient client, ShopperTaste taste, ShopperClock clock)
    {
        var world = taste.World;
        var visits = new List<(string, IReadOnlyCollection<string>)>();
        var (served, sent, outcomes) = (0, 0, new EventOutcomes(0, 0, 0, null));
        for (var day = 1; day <= clock.Days; day++)
        {
            var sessions = new ConcurrentBag<(ShopperSession Session, List<ShopperEvent> Events)>();
            var visitors = world.Shoppers.Where(s => new Random(ShopperSession.SeedOf(world.Seed, day, s.Id)).NextDouble() < s.VisitRate).ToArray();
            var today = day;
            await Parallel.ForEachAsync(visitors, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (shopper, _) =>
            {
                // The visit's own random numbers, after the draw that chose it: the same seed makes the same visit.
                var random = new Random(ShopperSession.SeedOf(world.Seed, today, shopper.Id));
                random.NextDouble();
                var session = ShopperSession.Start(taste, shopper, random, arrived: false);
                while (session.Current is { } page)
                {
                    var answer = await client.ServeAsync(page, shopper.VisitorId);
                    session.React(answer.RequestId, answer.Results);
                }
                sessions.Add((session, ShopperEvents.Of(session, $"d{today}", clock.VisitStart(today, shopper))));
            });
            var ordered = sessions.OrderBy(s => s.Session.Shopper.Id).ToArray();
            var events = ordered.SelectMany(s => s.Events).ToArray();
            outcomes = outcomes.Add(await client.SendAsync(events));
            await client.RebuildAsync();
            served += ordered.Sum(s => s.Session.Steps.Count(step => step.RequestId is not null));
            sent += events.Length;
            visits.AddRange(ordered.Select(s => (s.Session.Shopper.VisitorId, (IReadOnlyCollection<string>)[.. s.Events.Select(e => e.Sku).Distinct(StringComparer.Ordinal)])));
            Console.Error.WriteLine($"day {day}/{clock.Days}: {ordered.Length} visits, {events.Length} events ({outcomes.Stored} stored so far, {outcomes.Rejected} rejected)");
        }
        if (outcomes.FirstRejection is { } rejection)
            Console.Error.WriteLine($"bench feedback: POST /events rejected {outcomes.Rejected} events; the first: {rejection}");
        return new TrainingLog(visits, served, sent, outcomes);
    }
}
