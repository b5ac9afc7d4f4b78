namespace Similarity.Bench;

/// <summary>A click on a served list: its 1-based position and the item there.</summary>
public sealed record ShopperClick(int Position, string Sku);

/// <summary>
/// One step of a visit: on <see cref="Query"/>'s page (the list <see cref="RequestId"/> served there, if any) the shopper
/// clicked <see cref="Clicks"/> and moved on to <see cref="Next"/> (null: left), through the list or on their own, and
/// maybe put it in the cart and bought it.
/// </summary>
public sealed record ShopperStep(string Query, Guid? RequestId, IReadOnlyList<ShopperClick> Clicks, string? Next, bool FromList, bool AddedToCart, bool Purchased)
{
    /// <summary>The list position of <see cref="Next"/> when the shopper reached it through the list.</summary>
    public int? Position => FromList ? Clicks[0].Position : null;
}

/// <summary>
/// One visit of one shopper, step by step: it lands on an item; on each page the shopper examines position p with the
/// world's examination chance, clicks an examined item with its hidden relevance (each position on its own: the
/// position-based model), and moves to the first item clicked; with no click it goes on its own (its intent) with
/// <see cref="OwnWayChance"/> or leaves. After each step it goes on with <see cref="ContinueChance"/>, at most
/// <see cref="MaxSteps"/> steps. Pure: everything random comes from the <see cref="Random"/> it is given.
/// </summary>
public sealed class ShopperSession
{
    public const double ContinueChance = 0.75;
    public const int MaxSteps = 8;
    public const double OwnWayChance = 0.6;
    public const double CartChance = 0.1, ComplementCartChance = 0.35, PurchaseChance = 0.5;

    readonly ShopperTaste _taste;
    readonly Random _random;
    readonly List<ShopperStep> _steps = [];
    readonly bool _arrived;

    public Shopper Shopper { get; }
    public Judgement Judgement { get; }
    public string Landing { get; }

    /// <summary>The item whose page the shopper is on; null once they left.</summary>
    public string? Current { get; private set; }

    public IReadOnlyList<ShopperStep> Steps => _steps;

    ShopperSession(ShopperTaste taste, Shopper shopper, Random random, string landing, bool arrived)
    {
        (_taste, Shopper, _random, Landing, Current, _arrived) = (taste, shopper, random, landing, landing, arrived);
        Judgement = taste.World.JudgementOf(shopper.HomeFolder);
    }

    /// <summary>
    /// A visit of <paramref name="shopper"/>: lands by the world's popularity, or on <paramref name="landing"/> when given;
    /// before the new items <paramref name="arrived"/> (the training days) it never touches one of them.
    /// </summary>
    public static ShopperSession Start(ShopperTaste taste, Shopper shopper, Random random, string? landing = null, bool arrived = true) =>
        new(taste, shopper, random, landing ?? taste.World.Landing(shopper, random, arrived), arrived);

    /// <summary>The shopper's reaction to the list served on the current page (best first); it moves on or leaves.</summary>
    public ShopperStep React(Guid? requestId, IReadOnlyList<ShownItem> list)
    {
        var query = Current ?? throw new InvalidOperationException("The shopper has left.");
        var clicks = new List<ShopperClick>();
        for (var p = 1; p <= list.Count; p++)
        {
            // Both draws are made for every position, so one position's outcome never shifts the others' random numbers.
            var (examine, click) = (_random.NextDouble(), _random.NextDouble());
            if (examine < ShopperWorld.Examination(p) && click < _taste.Relevance(query, list[p - 1], Judgement, _arrived))
                clicks.Add(new ShopperClick(p, list[p - 1].Sku));
        }
        var fromList = clicks.Count > 0;
        var next = fromList ? clicks[0].Sku : _random.NextDouble() < OwnWayChance ? _taste.Intent(query, Judgement, _random, _arrived) : null;
        return Step(query, requestId, clicks, next, fromList);
    }

    /// <summary>A step with no list (held-out days): the shopper goes where its intent takes it.</summary>
    public ShopperStep Wander()
    {
        var query = Current ?? throw new InvalidOperationException("The shopper has left.");
        return Step(query, null, [], _taste.Intent(query, Judgement, _random, _arrived), fromList: false);
    }

    ShopperStep Step(string query, Guid? requestId, List<ShopperClick> clicks, string? next, bool fromList)
    {
        var (cart, bought) = (false, false);
        if (next is not null)
        {
            var complement = string.Equals(_taste.World.ComplementOf(query), next, StringComparison.Ordinal);
            cart = _random.NextDouble() < (complement ? ComplementCartChance : CartChance);
            bought = cart && _random.NextDouble() < PurchaseChance;
        }
        var step = new ShopperStep(query, requestId, clicks, next, fromList, cart, bought);
        _steps.Add(step);
        Current = next is null || _steps.Count >= MaxSteps || _random.NextDouble() >= ContinueChance ? null : next;
        return step;
    }

    /// <summary>The seed of one visit's random numbers: the run's seed, the day and the shopper (splitmix64, so neighbours differ).</summary>
    public static int SeedOf(int seed, int day, int shopper)
    {
        var x = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)day * 0xBF58476D1CE4E5B9UL + (ulong)shopper * 0x94D049BB133111EBUL);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return unchecked((int)(x ^ (x >> 31)));
    }
}
