using Npgsql;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Models;

/// <summary>
/// A served log whose preferred direction is known, written by SQL as the feedback tables' owners would fill them.
/// Group A items are queried, one query per list over five days; each list is the query's top 10 by the live fused
/// cosine, and its shopper clicks the listed item whose text is closest to the query's (shoppers who judge by
/// words). Group B items are never served nor engaged with. Around that: purchases of some clicked items, a
/// view, a bot's reversed click, a list served by another model set, and propensities 1/√p.
/// </summary>
static class TuneLogs
{
    public const int GroupA = 100, GroupB = 20, Days = 5;

    public static TestItem Item(string group, int i)
    {
        // Group B's words are none of group A's. The encoders put every noise picture nearly in one place, so an
        // item is told apart by its title; a B item titled like an A item would be that item's twin (fused cosine
        // about 0.998), which no fusion can leave in place while it moves the twin as its clicks ask.
        string[] colours = group == "a" ? ["red", "blue", "green", "black", "white", "yellow"] : ["pink", "purple", "brown", "navy", "gold", "silver"];
        string[] things = group == "a"
            ? ["wool scarf", "leather bag", "cotton shirt", "silk tie", "canvas shoe", "glass vase", "oak table"]
            : ["steel kettle", "ceramic mug", "paper notebook", "plastic toy", "wooden chair", "denim jacket", "linen pillow"];
        string[] styles = group == "a" ? ["plain", "striped", "dotted", "checked", "floral"] : ["vintage", "modern", "classic", "soft", "heavy"];
        var title = $"{colours[i % colours.Length]} {styles[i * 7 % styles.Length]} {things[i * 3 % things.Length]}";
        return new TestItem($"{group}-{i:D3}", title, Image: TestImages.Noise(40, 40, seed: 1000 * group[0] + i));
    }

    /// <summary>Puts both groups' items through the API, writes the log, and returns the clicks learned from.</summary>
    public static async Task<List<Click>> SeedAsync(HttpClient admin, TestDatabase database)
    {
        for (var i = 0; i < GroupA; i++)
            await admin.PutItemAsync(Item("a", i));
        for (var i = 0; i < GroupB; i++)
            await admin.PutItemAsync(Item("b", i));
        await WriteAsync(database);
        var clicks = await ClicksAsync(database);
        Assert.Equal(GroupA, clicks.Count);
        return clicks;
    }

    public static async Task WriteAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        foreach (var sql in Statements)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    static readonly string[] Statements =
    [
        """
        INSERT INTO served_lists (request_id, served_at, endpoint, query_sku, visitor_id, fingerprint, skus, scores)
        SELECT gen_random_uuid(), date_trunc('day', now()) - make_interval(days => (q.n % 5)::int) + interval '12 hours', 'similar', q.sku,
               'visitor-' || q.n, q.fingerprint,
               array(SELECT c.sku FROM items c WHERE c.sku LIKE 'a-%' AND c.sku <> q.sku ORDER BY c.embedding <=> q.embedding, c.sku LIMIT 10),
               array(SELECT (1 - (c.embedding <=> q.embedding))::real FROM items c WHERE c.sku LIKE 'a-%' AND c.sku <> q.sku
                     ORDER BY c.embedding <=> q.embedding, c.sku LIMIT 10)
        FROM (SELECT sku, embedding, fingerprint, row_number() OVER (ORDER BY sku) AS n FROM items WHERE sku LIKE 'a-%') q
        """,
        """
        INSERT INTO events (event_id, type, visitor_id, sku, source_sku, request_id, position, occurred_at)
        SELECT 'click-' || s.request_id, 'click', s.visitor_id, best.sku, s.query_sku, s.request_id, best.position, s.served_at + interval '1 minute'
        FROM served_lists s JOIN items q ON q.sku = s.query_sku
        CROSS JOIN LATERAL (SELECT u.sku, u.position::smallint AS position FROM unnest(s.skus) WITH ORDINALITY u(sku, position)
                            JOIN items c ON c.sku = u.sku ORDER BY c.text_embedding <=> q.text_embedding, u.position LIMIT 1) best
        """,
        """
        INSERT INTO events (event_id, type, visitor_id, sku, source_sku, request_id, position, occurred_at, quantity, price, currency)
        SELECT 'buy-' || e.request_id, 'purchase', e.visitor_id, e.sku, e.source_sku, e.request_id, e.position, e.occurred_at + interval '5 minutes', 1, 10, 'EUR'
        FROM events e WHERE e.type = 'click' AND e.visitor_id ~ '[05]$'
        """,
        """
        INSERT INTO events (event_id, type, visitor_id, sku, source_sku, request_id, position, occurred_at)
        SELECT 'view-' || s.request_id, 'view', s.visitor_id, s.skus[7], s.query_sku, s.request_id, 7, s.served_at + interval '2 minutes'
        FROM served_lists s WHERE s.visitor_id = 'visitor-1'
        """,
        """
        INSERT INTO bot_visitors (visitor_id, reason) VALUES ('bot', 'test');
        INSERT INTO served_lists (request_id, served_at, endpoint, query_sku, visitor_id, fingerprint, skus, scores)
        SELECT gen_random_uuid(), s.served_at, s.endpoint, s.query_sku, v.visitor,
               CASE v.visitor WHEN 'bot' THEN s.fingerprint ELSE '0123456789abcdef' END, s.skus, s.scores
        FROM served_lists s CROSS JOIN (VALUES ('bot'), ('visitor-other')) v(visitor);
        INSERT INTO events (event_id, type, visitor_id, sku, source_sku, request_id, position, occurred_at)
        SELECT 'reverse-' || s.request_id, 'click', s.visitor_id, s.skus[10], s.query_sku, s.request_id, 10, s.served_at + interval '1 minute'
        FROM served_lists s WHERE s.visitor_id IN ('bot', 'visitor-other')
        """,
        "INSERT INTO position_propensities (position, propensity, clicks) SELECT p, 1 / sqrt(p), 100 FROM generate_series(1, 10) p",
    ];

    /// <summary>A learned-from click: its list's query, the clicked item, its position, the items above it, and whether its day is the latest.</summary>
    public sealed record Click(string Query, string Sku, int Position, string[] Above, bool LatestDay, bool Purchased);

    /// <summary>The clicks of real visitors on the live set's lists, read back by a query of the test's own.</summary>
    public static async Task<List<Click>> ClicksAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT s.query_sku, e.sku, e.position, s.skus[1:e.position - 1], s.served_at >= date_trunc('day', now()),
                   EXISTS (SELECT 1 FROM events b WHERE b.request_id = e.request_id AND b.type = 'purchase')
            FROM events e JOIN served_lists s ON s.request_id = e.request_id
            WHERE e.type = 'click' AND s.visitor_id LIKE 'visitor-%' AND s.visitor_id <> 'visitor-other'
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var clicks = new List<Click>();
        while (await reader.ReadAsync())
            clicks.Add(new Click(reader.GetString(0), reader.GetString(1), reader.GetInt16(2), reader.GetFieldValue<string[]>(3), reader.GetBoolean(4), reader.GetBoolean(5)));
        return clicks;
    }
}
