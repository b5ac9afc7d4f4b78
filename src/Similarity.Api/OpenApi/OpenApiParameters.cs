using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Similarity.Hosting;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Similarity.OpenApi;

/// <summary>
/// What each input means and takes, in one table: its description, and its type's limits (range, default, pattern,
/// length, enumerated values) that a client generator turns into checks. Applied by name to every operation's
/// parameters and to the fields of its multipart form, so /similar, /search and the rest describe k, sku or title in
/// the same words. The limits are the ones the handlers enforce (SimilarQuery, Sku, ItemInput, ImportUpload).
/// </summary>
internal sealed partial class OpenApiParameters : IOperationFilter
{
    sealed record Doc(string Description, JsonSchemaType Type, string? Minimum = null, string? Maximum = null, JsonNode? Default = null,
        string? Pattern = null, int? MaxLength = null, string? Format = null, string[]? Enum = null, JsonNode? Example = null);

    const string SkuPattern = Identifiers.SchemaPattern;

    /// <summary>Prices are below <see cref="Catalog.Money.Limit"/>.</summary>
    static readonly string MaxPrice = (Catalog.Money.Limit - 0.0001m).ToString(CultureInfo.InvariantCulture);

    static readonly Dictionary<string, Doc> Docs = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sku"] = new("The item's SKU: 1–64 letters, digits, '.', '_' or '-'.", JsonSchemaType.String, Pattern: SkuPattern, MaxLength: 64,
            Example: OpenApiValues.DemoSku),
        ["k"] = new("How many similar items to return.", JsonSchemaType.Integer, "1", "100", 10),
        ["minScore"] = new("Leave out results whose score (the weighted score when re-weighted) is below this.", JsonSchemaType.Number, "-1", "1"),
        ["category"] = new("Only items of this category (matched whatever its case); in a form, the item's category.", JsonSchemaType.String, MaxLength: 200,
            Example: OpenApiValues.DemoCategory),
        ["brand"] = new("Only items of this brand (matched whatever its case); in a form, the item's brand.", JsonSchemaType.String, MaxLength: 200,
            Example: OpenApiValues.DemoBrand),
        ["priceMin"] = new("Only items priced at least this.", JsonSchemaType.Number, "0", MaxPrice),
        ["priceMax"] = new("Only items priced at most this.", JsonSchemaType.Number, "0", MaxPrice),
        ["available"] = new("Only available (true) or unavailable (false) items; in a form, whether the item can be bought.", JsonSchemaType.Boolean),
        ["exclude"] = new("SKUs to leave out, comma-separated (at most 100).", JsonSchemaType.String,
            Pattern: Identifiers.SchemaListPattern, MaxLength: 6_600),
        ["imageWeight"] = new("Rank by imageWeight × image cosine + textWeight × text cosine instead of the fused cosine.", JsonSchemaType.Number, "0", "100"),
        ["textWeight"] = new("The text cosine's weight when re-ranking by modality (see imageWeight).", JsonSchemaType.Number, "0", "100"),
        ["diversity"] = new("Maximal marginal relevance: 0 ranks by score alone; towards 1, each next result is chosen more for being unlike those before it.",
            JsonSchemaType.Number, "0", "1", 0),
        ["maxPerCategory"] = new("At most this many results of one category (crowding).", JsonSchemaType.Integer, "1", "100"),
        ["maxPerBrand"] = new("At most this many results of one brand (crowding).", JsonSchemaType.Integer, "1", "100"),
        ["boostAvailable"] = new("Added to the ranking score of available items, so they rank a little higher.", JsonSchemaType.Number, "0", "1", 0),
        ["fallback"] = new("category: when the filters or minScore leave fewer than k, fill up from the query item's category by score " +
            "(those results carry fallback: true); none: leave the page short.", JsonSchemaType.String, MaxLength: 8, Default: "none", Enum: ["none", "category"]),
        ["blend"] = new("An item's page only: the weight of co-engagement in the score (score = content score + blend × co-engagement with the " +
            "query item, 0–1; each result's reasons give the parts). 0 ranks by content alone; by default Similarity:Feedback:Blend.", JsonSchemaType.Number, "0", "10"),
        ["q"] = new("The text to search for, as a shopper types it: words missing from the catalog are corrected (one edit from 4 letters, two from 8).",
            JsonSchemaType.String, MaxLength: 20_000, Example: "penguin"),
        ["mode"] = new("hybrid: the lexical and vector lists fused by reciprocal rank (a text's default); vector: the embedding alone " +
            "(/similar's default); lexical: the words alone.", JsonSchemaType.String, MaxLength: 7, Enum: ["hybrid", "vector", "lexical"]),
        ["lexicalWeight"] = new("The lexical list's weight in the fusion (the vector list's is 1 − it).", JsonSchemaType.Number, "0", "1", 0.5),
        ["otherSku"] = new("The other item of the rule: pinned or blocked on sku's page.", JsonSchemaType.String, Pattern: SkuPattern, MaxLength: 64,
            Example: OpenApiValues.OtherDemoSku),
        ["skus"] = new("1 to 100 SKUs, comma-separated; without it, a page of the catalog.", JsonSchemaType.String,
            Pattern: Identifiers.SchemaListPattern, MaxLength: 6_600),
        ["afterSku"] = new("The catalog page after this SKU (the previous page's nextAfterSku).", JsonSchemaType.String, Pattern: SkuPattern, MaxLength: 64),
        ["size"] = new("Which stored copy: the 256 px thumbnail or the 640 px picture.", JsonSchemaType.String, MaxLength: 5,
            Default: "full", Enum: ["thumb", "full"]),
        ["fields"] = new("Optional result fields, comma-separated: attributes, description.", JsonSchemaType.String,
            Pattern: "^(attributes|description)(,(attributes|description))?$", MaxLength: 22),
        ["id"] = new("The import job's id.", JsonSchemaType.String, Format: "uuid", MaxLength: 36),
        ["after"] = new("Row errors after this row number (the previous page's nextAfter).", JsonSchemaType.Integer, "0", int.MaxValue.ToString(CultureInfo.InvariantCulture), 0),
        ["limit"] = new("How many to return (a page).", JsonSchemaType.Integer, "1", "1000"),
        ["name"] = new("The model set's (or the experiment's) name: 1–64 letters, digits, '.', '_' or '-'.", JsonSchemaType.String, Pattern: SkuPattern, MaxLength: 64,
            Example: "clipart-v2"), // a new set beside the demo's live "clipart"
        ["days"] = new("The last this many days (UTC), today included.", JsonSchemaType.Integer, "1", "90", 14),
        ["positions"] = new("Positions 1 to this.", JsonSchemaType.Integer, "1", "100", 10),
        ["sample"] = new("How many items to compare, sampled at random.", JsonSchemaType.Integer, "1", "1000", 100),
        // Form fields (PUT /items, POST /embed and /search, POST /imports).
        ["title"] = new("The item's title (required): the first thing its text is embedded by.", JsonSchemaType.String, MaxLength: 500,
            Example: "Emperor Penguin"),
        ["description"] = new("The item's description, embedded after its title and category.", JsonSchemaType.String, MaxLength: 10_000,
            Example: "An emperor penguin standing on the ice, drawn in black, white and yellow."),
        ["price"] = new("The price with a dot before the decimals, exactly to the currency's minor units (19.99 EUR, 1999 JPY): never rounded.",
            JsonSchemaType.String, Pattern: @"^[0-9]{1,14}(\.[0-9]{1,4})?$", MaxLength: 19, Example: "76.93"),
        ["currency"] = new("An ISO 4217 currency code.", JsonSchemaType.String, Pattern: "^[A-Za-z]{3}$", MaxLength: 3, Example: "EUR"),
        ["attributes"] = new("A JSON object of the item's other attributes (not embedded).", JsonSchemaType.String, MaxLength: 16_384,
            Example: """{"keywords": "penguin, bird"}"""),
        ["imageUrl"] = new("The shop's own address of the item's picture, shown by storefronts (not downloaded).", JsonSchemaType.String,
            Format: "uri", MaxLength: 2_000, Example: "https://shop.example/pictures/emperor-penguin.png"),
        ["image"] = new("A JPEG, PNG, WebP or GIF picture (at most 20 MiB, 40 megapixels).", JsonSchemaType.String, Format: "binary"),
        ["text"] = new("A text to embed, as an item's title and description would be.", JsonSchemaType.String, MaxLength: 20_000,
            Example: "penguin"),
        ["catalog"] = new("The catalog file: our CSV/TSV/JSON Lines, a Merchant Center feed (TSV or XML), a Shopify product CSV, or a CSV with a mapping.",
            JsonSchemaType.String, Format: "binary"),
        ["images"] = new("A zip of the pictures the catalog's image column names.", JsonSchemaType.String, Format: "binary"),
        ["format"] = new("The catalog's format, when not to be detected from its header or root element.", JsonSchemaType.String,
            MaxLength: 15, Enum: ["native", "merchant-center", "shopify"]),
        // Default "" and no example: Swagger UI fills a form field with its example (or "string") and sends it with
        // every upload, mapping a catalog that needs none; an empty field it leaves out.
        ["mapping"] = new("For any other CSV: a JSON object from our field names to your column names, e.g. " +
            """{"sku": "Item no", "title": "Name", "price": "Price"}.""", JsonSchemaType.String, MaxLength: 16_384, Default: ""),
        ["missingImage"] = new("What becomes of a row whose picture cannot be downloaded: skip it (an error) or store it textOnly.",
            JsonSchemaType.String, MaxLength: 8, Enum: ["skip", "textOnly"]),
        ["visitorId"] = new("The shopper this answer is for, as the shop names them (opaque, no personal data), recorded with the served list; " +
            "in DELETE /visitors/{visitorId}, the visitor to erase.", JsonSchemaType.String, MaxLength: 128, Example: "v-7f3a9c"),
        ["X-Visitor-Id"] = new("The visitorId as a header, for callers that keep it out of URLs (the query parameter wins when both are sent).",
            JsonSchemaType.String, MaxLength: 128),
        ["Idempotency-Key"] = new("Any string unique to this upload: posting the same body again under it returns the same job (and resumes it if it failed).",
            JsonSchemaType.String, MaxLength: 200),
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            if (parameter.Name is not null && (ByOperation.TryGetValue((operation.OperationId ?? "", parameter.Name), out var doc) || Docs.TryGetValue(parameter.Name, out doc)))
            {
                parameter.Description = doc.Description;
                // Swagger UI fills an example into try-it-out and sends it: for an optional filter (brand=Acme
                // Outdoor) that would filter every trial request. Only required parameters keep theirs.
                parameter.Schema = SchemaOf(parameter.Required ? doc : doc with { Example = null }, (parameter.Schema as OpenApiSchema)?.Default);
                parameter.Example = null; // the schema's example serves
            }
        }
        foreach (var form in operation.RequestBody?.Content?.Where(c => c.Key == "multipart/form-data").Select(c => c.Value) ?? [])
        {
            var schema = form.Schema as OpenApiSchema ?? (form.Schema is OpenApiSchemaReference reference
                ? context.SchemaRepository.Schemas.GetValueOrDefault(reference.Reference.Id!) as OpenApiSchema : null);
            foreach (var (name, property) in schema?.Properties?.ToList() ?? [])
            {
                if (Docs.TryGetValue(name, out var doc))
                    schema!.Properties![name] = SchemaOf(doc, null, (property as OpenApiSchema)?.Type is { } type && doc.Type == JsonSchemaType.Boolean ? type : null);
            }
        }
    }

    /// <summary>A form field of type boolean is sent as the text "true" or "false".</summary>
    static OpenApiSchema SchemaOf(Doc doc, JsonNode? fallbackDefault, JsonSchemaType? formType = null) => formType is JsonSchemaType.String && doc.Type == JsonSchemaType.Boolean
        ? new OpenApiSchema { Type = JsonSchemaType.String, Description = doc.Description, Enum = [JsonValue.Create("true"), JsonValue.Create("false")], MaxLength = 5, Examples = [JsonValue.Create("true")] }
        : new OpenApiSchema
        {
            Type = doc.Type,
            Description = doc.Description,
            Format = doc.Format ?? (doc.Type == JsonSchemaType.Integer ? "int32" : doc.Type == JsonSchemaType.Number ? "double" : null),
            Minimum = doc.Minimum,
            Maximum = doc.Maximum,
            Default = doc.Default?.DeepClone() ?? fallbackDefault, // else the handler's own default
            Pattern = doc.Pattern,
            MaxLength = doc.MaxLength,
            Enum = doc.Enum?.Select(v => (JsonNode)JsonValue.Create(v)).ToList(),
            Examples = doc.Example is { } example ? [example.DeepClone()] : null,
        };
}
