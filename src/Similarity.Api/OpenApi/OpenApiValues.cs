using System.Text.Json.Nodes;

namespace Similarity.OpenApi;

/// <summary>
/// The values of the answers' enumerated strings, by record and member, and examples that work against
/// <c>./similarity.sh demo</c>'s catalog (openclipart drawings whose SKU is <c>oc-</c> and a hash of the
/// drawing's path: the Emperor Penguin below is one of them). The values are the ones the service writes and
/// its tables' CHECK constraints allow; a test holds each against the answers.
/// </summary>
internal static class OpenApiValues
{
    /// <summary>A demo SKU (Emperor Penguin, animals/birds, Contoso, 76.93 EUR), another of the same category, and one of another.</summary>
    public const string DemoSku = "oc-4247b1b271e6b456", OtherDemoSku = "oc-1aea28e6c03e48e4", ThirdDemoSku = "oc-0980042b5d0eb232";

    public const string DemoCategory = "animals/birds", DemoBrand = "Contoso";

    public static readonly string[] ImportStatuses = ["queued", "running", "succeeded", "succeeded_with_errors", "failed", "cancelled"];
    public static readonly string[] ImportFormats = ["native", "merchant-center", "shopify", "mapped"];
    public static readonly string[] ModelSetStatuses =
        [Models.ModelStatus.Live, Models.ModelStatus.Candidate, Models.ModelStatus.Embedding, Models.ModelStatus.Ready, Models.ModelStatus.Retired];
    public static readonly string[] RuleKinds = [Similar.RulesApi.Pin, Similar.RulesApi.Block];
    public static readonly string[] Sources = [Similar.ResultSource.NeighbourList, Similar.ResultSource.IndexSearch];
    public static readonly string[] RankedBy = ["fused", "weighted"];
    public static readonly string[] Strategies = ["average", "bestScore"];
    public static readonly string[] HealthStatuses = ["Healthy", "Degraded", "Unhealthy"];

    public static string[]? EnumOf(string type, string member) => (type, member) switch
    {
        ("JobResponse", "status") => ImportStatuses,
        ("JobResponse", "format") => ImportFormats,
        ("ModelSetInfo", "status") => ModelSetStatuses,
        ("Rule", "kind") => RuleKinds,
        ("SimilarResponse", "source") => Sources,
        (_, "rankedBy") => RankedBy,
        ("SimilarExamplesResponse", "strategy") => Strategies,
        ("HealthResponse" or "HealthEntry", "status") => HealthStatuses,
        ("EventRequest", "type") => Feedback.EventTypes.All,
        ("EventOutcome", "outcome") => [Feedback.EventOutcome.Stored, Feedback.EventOutcome.Duplicate, Feedback.EventOutcome.Rejected],
        _ => null,
    };

    public static JsonNode? ExampleOf(string type, string member) => (type, member) switch
    {
        (_, "sku") => DemoSku,
        (_, "otherSku") => OtherDemoSku,
        (_, "title") => "Emperor Penguin",
        (_, "description") => "penguin",
        (_, "category") => DemoCategory,
        (_, "brand") => DemoBrand,
        (_, "price") => 76.93m,
        (_, "currency") => "EUR",
        (_, "imageUrl") => $"https://shop.example/pictures/{DemoSku}.png",
        (_, "attributes") => new JsonObject { ["keywords"] = "penguin" },
        (_, "missing") => new JsonArray("oc-0000000000000000"),
        ("JobResponse", "errors") => "/imports/0193c3a2-7b4e-7d41-9c55-3f1e2a9b8c7d/errors",
        ("ImportError", "reason") => "price: '12,50' is not a price (a dot before the decimals).",
        ("ImportError", "columns") => "price",
        ("ModelSetInfo", "name") => "clipart",
        ("EventRequest" or "EventOutcome", "eventId") => "e-0001",
        (_, "visitorId") => "v-7f3a9c",
        ("EventRequest", "sessionId") => "s-12",
        ("EventRequest", "sourceSku") => OtherDemoSku,
        ("EventRequest", "requestId") => "0193a5c2-7d4e-7b21-9c3f-2a1b0c9d8e7f",
        ("EventRequest", "position") => 2,
        ("EventRequest", "timestamp") => "2026-12-06T10:15:00Z",
        ("EventRequest", "quantity") => 1,
        ("HealthEntry", "data") => new JsonObject { ["items"] = 3000 },
        ("HealthResponse", "entries") => new JsonObject
        {
            ["database"] = new JsonObject { ["status"] = "Healthy", ["description"] = null, ["duration"] = "00:00:00.0012345", ["data"] = new JsonObject() },
        },
        _ => null,
    };

    /// <summary>A ProblemDetails as the service answers one (a validation problem names each field), for Swagger UI.</summary>
    public static JsonNode? ProblemExampleOf(Type type) =>
        type == typeof(Microsoft.AspNetCore.Http.HttpValidationProblemDetails) ? new JsonObject
        {
            ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            ["title"] = "One or more validation errors occurred.",
            ["status"] = 400,
            ["detail"] = "k takes a whole number.",
            ["errors"] = new JsonObject { ["k"] = new JsonArray("'ten' is not a whole number.") },
            ["traceId"] = "4bf92f3577b34da6a3ce929d0e0e4736",
        }
        : type == typeof(Microsoft.AspNetCore.Mvc.ProblemDetails) ? new JsonObject
        {
            ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.5",
            ["title"] = "No such item.",
            ["status"] = 404,
            ["detail"] = "There is no item with SKU 'oc-0000000000000000'.",
            ["traceId"] = "4bf92f3577b34da6a3ce929d0e0e4736",
        }
        : null;
}
