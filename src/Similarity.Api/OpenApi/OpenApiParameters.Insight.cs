using System.Globalization;
using Microsoft.OpenApi;
using Similarity.Insight;

namespace Similarity.OpenApi;

/// <summary>
/// The insight routes' parameters, where a name means something else than it does elsewhere (<c>minScore</c> of
/// /duplicates is a threshold from 0.5, <c>after</c> counts groups or checks, not rows). Looked up by operation
/// before the shared table; the bounds are those <see cref="InsightApi"/> and <see cref="ImportChecksApi"/> enforce.
/// </summary>
internal sealed partial class OpenApiParameters
{
    static readonly string MaxAfter = int.MaxValue.ToString(CultureInfo.InvariantCulture);

    static Doc After(string what) => new($"Skip the first this many {what} (the previous page's nextAfter).", JsonSchemaType.Integer, "0", MaxAfter, 0);

    static readonly Dictionary<(string Operation, string Name), Doc> ByOperation = new()
    {
        [("ListDuplicates", "minScore")] = new("The cosine (in `by`) at or over which two items are near-identical; the service's " +
            "Similarity:Insight:DuplicateMinScore (0.95) when left out.", JsonSchemaType.Number, "0.5", "1", Example: 0.95),
        [("ListDuplicates", "by")] = new("Which vectors compare the items: fused (picture and text), image or text.", JsonSchemaType.String,
            MaxLength: 5, Default: Modality.Fused, Enum: Modality.All),
        [("ListDuplicates", "after")] = After("groups"),
        [("ListDuplicates", "limit")] = new("How many groups to return.", JsonSchemaType.Integer, "1", InsightApi.MaxDuplicateLimit.ToString(CultureInfo.InvariantCulture), InsightApi.DefaultLimit),
        [("ListMismatches", "sku")] = new("Score this one item alone.", JsonSchemaType.String, Pattern: SkuPattern, MaxLength: 64, Example: OpenApiValues.DemoSku),
        [("ListMismatches", "after")] = After("items"),
        [("ListMismatches", "limit")] = new("How many items to return.", JsonSchemaType.Integer, "1", InsightApi.MaxMismatchLimit.ToString(CultureInfo.InvariantCulture), InsightApi.DefaultLimit),
        [("GetCluster", "id")] = new("The cluster's number in the last clustering (1 is the largest), as GET /clusters lists them.", JsonSchemaType.String,
            Pattern: "^[1-9][0-9]{0,8}$", MaxLength: 9, Example: "1"),
        [("GetCluster", "after")] = After("members"),
        [("GetCluster", "limit")] = new("How many members to return.", JsonSchemaType.Integer, "1", "1000", 100),
        [("GetImportChecks", "after")] = After("checks"),
        [("GetImportChecks", "kind")] = new("Only checks of this kind.", JsonSchemaType.String, MaxLength: 22, Enum: ImportCheckKind.All),
    };
}
