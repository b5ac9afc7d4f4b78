using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Similarity.Hosting;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Similarity.OpenApi;

/// <summary>
/// Bodies as a client generator needs them: which form fields are required, the shape of a JSON Merge Patch and of a
/// batch (which their handlers read themselves), a realistic example of each JSON body, and both forms of the row
/// errors (JSON by default, CSV when asked for).
/// </summary>
internal sealed class OpenApiBodies : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        switch (operation.OperationId)
        {
            case "PutItem":
                Require(FormOf(operation, context), "title");
                break;
            case "CreateImport":
                Require(FormOf(operation, context), "catalog");
                break;
            case "PatchItem":
                SetJson(operation, "application/merge-patch+json", PatchSchema(),
                    new JsonObject { ["price"] = "76.93", ["available"] = false, ["attributes"] = new JsonObject { ["keywords"] = "penguin, bird", ["colour"] = null } });
                break;
            case "GetImportErrors":
                if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse response)
                {
                    response.Content = new Dictionary<string, IOpenApiMediaType>
                    {
                        ["application/json"] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(typeof(Imports.ImportsApi.ErrorsResponse), context.SchemaRepository) },
                        ["text/csv"] = new OpenApiMediaType
                        {
                            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 100_000_000, Description = "A header row (row,line,sku,columns,reason,stored), then one row per error." },
                            Example = $"row,line,sku,columns,reason,stored\n7,8,{OpenApiValues.DemoSku},image,https://shop.example/pictures/emperor-penguin.png: 404 Not Found,false\n",
                        },
                    };
                }
                break;
            case "DeployModels":
                if (operation.RequestBody is OpenApiRequestBody bundle)
                {
                    bundle.Required = true;
                    bundle.Description = "A zip of the model set's folder: manifest.json and the files it names, at the root or in one folder.";
                    bundle.Content = new Dictionary<string, IOpenApiMediaType>
                    {
                        ["application/zip"] = new OpenApiMediaType
                        {
                            Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", MaxLength = int.MaxValue,
                                Description = "At most Similarity:Models:MaxBundleBytes (2 GiB by default), uploaded and unpacked." },
                        },
                    };
                }
                break;
            case "PutRule":
                SetJson(operation, "application/json", new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "kind" },
                    AdditionalPropertiesAllowed = false,
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["kind"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 5, Enum = [JsonValue.Create("pin"), JsonValue.Create("block")],
                            Description = "pin: show otherSku on sku's page at position; block: never show the two together." },
                        ["position"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = "100",
                            Description = "A pin's place on the page, 1 = first (a block has none)." },
                        ["bothWays"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false),
                            Description = "The same rule on otherSku's page too." },
                    },
                }, new JsonObject { ["kind"] = "pin", ["position"] = 1, ["bothWays"] = false });
                context.SchemaRepository.Schemas.Remove(nameof(Similar.RulesApi.RuleRequest)); // described inline above
                break;
            case "CreateKey":
                SetJson(operation, "application/json", new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "name", "role" },
                    AdditionalPropertiesAllowed = false,
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["name"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = Keys.KeysApi.MaxName,
                            Description = "Who holds the key (a shop, a backend, a person); names need not be unique, so a rotated key may keep its name." },
                        ["role"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 10, Enum = [JsonValue.Create("admin"), JsonValue.Create("storefront")],
                            Description = "admin: every route; storefront: reads and search (a 403 on admin routes)." },
                        ["perSecond"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = "1000000",
                            Description = "Encoder requests per second the key's bucket regains (default Similarity:RateLimits:PerKeyPerSecond)." },
                        ["burst"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = "1000000",
                            Description = "Encoder requests the key may send at once (default Similarity:RateLimits:PerKeyBurst)." },
                    },
                }, new JsonObject { ["name"] = "shop-frontend", ["role"] = "storefront" });
                context.SchemaRepository.Schemas.Remove(nameof(Keys.KeysApi.KeyRequest)); // described inline above
                break;
            case "PutExperiment":
                OpenApiSchema Side(string description) => new()
                {
                    Type = JsonSchemaType.Object, AdditionalPropertiesAllowed = false, Description = description,
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["blend"] = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double", Minimum = "0", Maximum = "10",
                            Description = "The co-engagement weight of the blended /similar (0: content only)." },
                        ["imageWeight"] = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double", Minimum = "0", Maximum = "100",
                            Description = "Re-rank by the image cosine's weight (the other weight 0 unless given)." },
                        ["textWeight"] = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double", Minimum = "0", Maximum = "100",
                            Description = "Re-rank by the text cosine's weight (the other weight 0 unless given)." },
                        ["diversity"] = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double", Minimum = "0", Maximum = "1",
                            Description = "Maximal marginal relevance, as the query parameter." },
                    },
                };
                SetJson(operation, "application/json", new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "control", "treatment", "share" },
                    AdditionalPropertiesAllowed = false,
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["control"] = Side("Side A: ranking parameters set over each request's own."),
                        ["treatment"] = Side("Side B: ranking parameters set over each request's own."),
                        ["share"] = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double", Minimum = "0", Maximum = "1",
                            Description = "The part of GET /similar/{sku} answers interleaved (above 0, at most 1)." },
                    },
                }, new JsonObject { ["control"] = new JsonObject { ["blend"] = 0 }, ["treatment"] = new JsonObject { ["blend"] = 0.3 }, ["share"] = 0.1 });
                context.SchemaRepository.Schemas.Remove(nameof(Feedback.ExperimentsApi.ExperimentRequest)); // described inline above
                break;
            case "SimilarToExamples":
                OpenApiSchema SkuList(string description, int minItems) => new()
                {
                    Type = JsonSchemaType.Array, Description = description, MinItems = minItems, MaxItems = Similar.SimilarApi.MaxExamples,
                    Items = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = Identifiers.SchemaPattern, MaxLength = 64 },
                };
                SetJson(operation, "application/json", new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "positive" },
                    AdditionalPropertiesAllowed = false,
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["positive"] = SkuList("Items the results should be like (1 to 20).", 1),
                        ["negative"] = SkuList("Items the results should be unlike (0 to 20).", 0),
                        ["weights"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object, MaxProperties = 2 * Similar.SimilarApi.MaxExamples,
                            Description = "An example's weight by its SKU (above 0, at most 100; 1 when not given).",
                            AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double", Minimum = "0", Maximum = "100" },
                        },
                        ["strategy"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.String, MaxLength = 9, Default = JsonValue.Create("average"),
                            Enum = [JsonValue.Create("average"), JsonValue.Create("bestScore")],
                            Description = "average: one query, the weighted sum of the positives minus the negatives; bestScore: each candidate's best score against a positive minus its best against a negative.",
                        },
                    },
                }, new JsonObject
                {
                    ["positive"] = new JsonArray(OpenApiValues.DemoSku, OpenApiValues.OtherDemoSku), ["negative"] = new JsonArray(OpenApiValues.ThirdDemoSku),
                    ["weights"] = new JsonObject { [OpenApiValues.DemoSku] = 2 }, ["strategy"] = "average",
                });
                context.SchemaRepository.Schemas.Remove(nameof(Similar.SimilarApi.SimilarExamplesRequest)); // described inline above
                break;
            case "SimilarBatch":
                SetJson(operation, "application/json", new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "skus" },
                    AdditionalPropertiesAllowed = false,
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["skus"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Array,
                            Description = "The SKUs whose similar items are wanted, in the order of the answer (1 to 100).",
                            MinItems = 1,
                            MaxItems = 100,
                            Items = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = Identifiers.SchemaPattern, MaxLength = 64 },
                        },
                    },
                }, new JsonObject { ["skus"] = new JsonArray(OpenApiValues.DemoSku, OpenApiValues.OtherDemoSku, OpenApiValues.ThirdDemoSku) });
                context.SchemaRepository.Schemas.Remove(nameof(Similar.SimilarApi.SimilarBatchRequest)); // described inline above
                break;
        }
    }

    static OpenApiSchema? FormOf(OpenApiOperation operation, OperationFilterContext context) =>
        operation.RequestBody?.Content?.TryGetValue("multipart/form-data", out var form) == true
            ? form.Schema as OpenApiSchema ?? (form.Schema is OpenApiSchemaReference reference
                ? context.SchemaRepository.Schemas.GetValueOrDefault(reference.Reference.Id!) as OpenApiSchema : null)
            : null;

    static void Require(OpenApiSchema? form, string field)
    {
        if (form?.Properties?.TryGetValue(field, out var property) != true)
            return;
        form.Required ??= new HashSet<string>();
        form.Required.Add(field);
        if (property is OpenApiSchema concrete && concrete.Type is { } type)
            concrete.Type = type & ~JsonSchemaType.Null;
    }

    static void SetJson(OpenApiOperation operation, string mediaType, OpenApiSchema schema, JsonNode example)
    {
        if (operation.RequestBody is not OpenApiRequestBody body)
            return;
        body.Required = true;
        body.Content = new Dictionary<string, IOpenApiMediaType> { [mediaType] = new OpenApiMediaType { Schema = schema, Example = example } };
    }

    /// <summary>What PATCH /items/{sku} takes: any of the item's fields; null clears one (attributes merge member by member).</summary>
    static OpenApiSchema PatchSchema()
    {
        OpenApiSchema Text(int maxLength, string description, JsonSchemaType type = JsonSchemaType.String) =>
            new() { Type = type | JsonSchemaType.Null, MaxLength = maxLength, Description = description };
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "A JSON Merge Patch (RFC 7396) of the item: the fields sent change, null clears one, the others stay.",
            AdditionalPropertiesAllowed = false,
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 500, Description = "A new title: the item's text is embedded again." },
                ["description"] = Text(10_000, "A new description: the item's text is embedded again."),
                ["category"] = Text(200, "A new category: the item's text is embedded again."),
                ["brand"] = Text(200, "Not embedded: no re-embedding."),
                ["price"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Pattern = @"^[0-9]{1,14}(\.[0-9]{1,4})?$", MaxLength = 19,
                    Description = "As written, to the currency's minor units (a JSON number is taken digit for digit too). Not embedded." },
                ["currency"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Pattern = "^[A-Za-z]{3}$", MaxLength = 3, Description = "Not embedded." },
                ["available"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "Not embedded." },
                ["attributes"] = new OpenApiSchema { Type = JsonSchemaType.Object | JsonSchemaType.Null, MaxProperties = 200,
                    Description = "Merged into the item's attributes member by member (null removes one). Not embedded." },
                ["imageUrl"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Format = "uri", MaxLength = 2_000, Description = "Not embedded." },
            },
        };
    }
}
