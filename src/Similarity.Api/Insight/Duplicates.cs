using Microsoft.Extensions.Options;

namespace Similarity.Insight;

/// <summary>
/// The duplicate groups of the catalog, a page at a time: pairs over the threshold from the neighbour lists, grouped
/// by <see cref="DuplicateGrouping"/> under the group cap, each group with its members, every pair's score and the
/// fields on which its members differ. By fused vectors a pair also passes the <see cref="DuplicateGate"/> (image
/// cosine and picture sketches) where both items have a picture; the sketches of pictures not yet sketched are made first.
/// Computed on request (docs/architecture.md, "Insight", says why).
/// </summary>
public sealed class Duplicates(DuplicateStore store, PictureSketches sketches, IOptions<InsightOptions> options)
{
    public sealed record DuplicatePair(string Sku, string OtherSku, double Score);

    public sealed record DuplicateGroup(IReadOnlyList<DuplicateStore.DuplicateMember> Members, IReadOnlyList<DuplicatePair> Pairs, IReadOnlyList<string> Differs);

    public sealed record DuplicatePage(int Total, IReadOnlyList<DuplicateGroup> Groups);

    /// <summary>The fields a group's members are compared on, in the order <see cref="DuplicateGroup.Differs"/> names them.</summary>
    public static readonly string[] ComparedFields = ["title", "description", "brand", "price", "currency", "category", "picture"];

    public async Task<DuplicatePage> FindAsync(string by, double minScore, int after, int limit, CancellationToken ct)
    {
        var column = Modality.ColumnOf(by) ?? throw new ArgumentException($"Unknown modality '{by}'.", nameof(by));
        var maxGroup = options.Value.MaxGroupSize;
        // By fused vectors the pictures must agree too (InsightOptions says why); by image or text one vector decides alone.
        var gate = by == Modality.Fused ? DuplicateGate.From(options.Value) : DuplicateGate.None;
        if (gate.NeedsSketches)
            await sketches.RefreshAsync(null, ct);
        var pairs = await store.PairsAsync(column, minScore, maxGroup, gate.MinImageScore, ct);
        if (gate.NeedsSketches)
            pairs = gate.Keep(pairs, p => (p.Sku, p.OtherSku), await sketches.ReadAsync([.. pairs.SelectMany(p => new[] { p.Sku, p.OtherSku }).Distinct()], ct));
        var groups = DuplicateGrouping.Group(pairs, maxGroup);
        var page = groups.Skip(after).Take(limit).ToList();
        if (page.Count == 0)
            return new DuplicatePage(groups.Count, []);
        var members = await store.MembersAsync(page.SelectMany(g => g).ToList(), ct);
        var scored = await store.GroupPairsAsync(column, page, ct);
        var result = new List<DuplicateGroup>();
        for (var i = 0; i < page.Count; i++)
        {
            // A member deleted since the lists were read drops out; a group left with one member is no group.
            var present = page[i].Where(members.ContainsKey).Select(s => members[s]).ToList();
            if (present.Count < 2)
                continue;
            var groupPairs = scored.Where(p => p.Group == i && members.ContainsKey(p.Pair.Sku) && members.ContainsKey(p.Pair.OtherSku))
                .Select(p => new DuplicatePair(p.Pair.Sku, p.Pair.OtherSku, Math.Round(p.Pair.Score, 6))).ToList();
            result.Add(new DuplicateGroup(present, groupPairs, DifferingFields(present)));
        }
        return new DuplicatePage(groups.Count, result);
    }

    /// <summary>The fields (of <see cref="ComparedFields"/>) that are not the same for every member; text compared as written.</summary>
    public static List<string> DifferingFields(IReadOnlyList<DuplicateStore.DuplicateMember> members)
    {
        static object? Field(DuplicateStore.DuplicateMember m, string field) => field switch
        {
            "title" => m.Title,
            "description" => m.Description,
            "brand" => m.Brand,
            "price" => m.Price,
            "currency" => m.Currency,
            "category" => m.Category,
            _ => m.HasPicture,
        };
        return [.. ComparedFields.Where(f => members.Select(m => Field(m, f)).Distinct().Count() > 1)];
    }
}
