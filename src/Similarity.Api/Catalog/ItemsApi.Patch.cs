using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Similarity.Encoders;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Catalog;

/// <summary>
/// PATCH /items/{sku}: a JSON Merge Patch (RFC 7396) of an item's fields. A change to fields that are not embedded
/// (brand, attributes, price, currency, available, imageUrl) is written as is: no re-embedding, and the answer says
/// so (<c>embedded: false</c>). A change to the embedded text (title, category, description) embeds the new text
/// and fuses it with the item's stored image projection — the picture itself is not needed, and stays.
/// </summary>
public static partial class ItemsApi
{
    public const int MaxBodyBytes = 64 * 1024;

    static readonly string[] Patchable = ["title", "description", "category", "brand", "price", "currency", "available", "attributes", "imageUrl"];

    public static async Task<Results<Ok<ItemsApi.ItemResponse>, ValidationProblem, ProblemHttpResult>> PatchAsync(
        string sku, HttpRequest request, CatalogStore store, ModelSets models, CancellationToken ct)
    {
        if (!Sku.IsValid(sku))
            return ItemsApi.InvalidSku();
        if (request.ContentType?.Split(';')[0].Trim() is not ("application/merge-patch+json" or "application/json"))
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "The input is not of a supported type.",
                detail: "Send a JSON Merge Patch (RFC 7396) as application/merge-patch+json, like {\"price\": \"12.50\", \"available\": false}.");
        if (await ReadPatchAsync(request, ct) is not { } patch)
            return Invalid("body", $"The body must be a JSON object of at most {MaxBodyBytes} bytes, like {{\"price\": \"12.50\"}}.");
        if (patch.ContainsKey("sku"))
            return Invalid("sku", "The SKU names the item; it cannot be patched (PUT the item under its new SKU and DELETE the old one).");
        if (patch.Select(p => p.Key).Where(k => !Patchable.Contains(k)).ToArray() is [_, ..] unknown)
            return Invalid(unknown[0], $"Unknown field(s) {string.Join(", ", unknown)}; a patch takes {string.Join(", ", Patchable)}.");

        // Under the read side of the model switch: the text is fused with the picture's vector of the set live throughout.
        using var _ = await models.ReadLockAsync(ct);
        var pipeline = models.Live.Pipeline;
        // Read, patch, write only if nothing wrote in between (three tries against a concurrent writer).
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.GetAsync(sku, ct) is not { } item)
                return Problems.ItemNotFound(sku);
            var patched = MergePatch.Apply(Document(item.Fields), patch)!.AsObject();
            var (input, typeErrors) = InputOf(sku, patched);
            if (typeErrors.Count > 0)
                return TypedResults.ValidationProblem(typeErrors);
            var validated = input.Validate();
            if (validated.Value is not { } fields)
                return TypedResults.ValidationProblem(validated.Errors);
            if (await store.GetEmbeddedStateAsync(sku, ct) is not { } embedded)
                return Problems.ItemNotFound(sku);

            var text = CatalogText.Of(fields);
            var textHash = CatalogText.Hash(text);
            if (text == CatalogText.Of(item.Fields))
            {
                if (await store.UpdateIfUnchangedAsync(sku, fields, embedded.ImageHash, textHash, embedded.Fingerprint, ct) is { } updated)
                    return TypedResults.Ok(ItemsApi.ItemResponse.From(updated, embedded: false));
                continue; // its text or picture changed meanwhile
            }
            if (embedded.Fingerprint != pipeline.Fingerprint)
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The item was embedded by another model set.",
                    detail: $"Its text cannot be fused with its picture's vector from model set {embedded.Fingerprint}: PUT the whole item, with its picture, again.");

            var textVector = await pipeline.Text.EncodeAsync(text, ct);
            var fusion = pipeline.Fusion.FuseProjected(embedded.ImageProjection, pipeline.Fusion.Fuse(null, textVector).Text);
            VectorGuard.Check(fusion.Fused, "title");
            var (stored, _) = await store.UpsertAsync(sku, fields, embedded.ImageHash, textHash, pipeline.Fingerprint,
                new ItemVectors(fusion.Fused, fusion.Image, fusion.Text, fusion.ImageWeight, fusion.TextWeight), ct);
            return TypedResults.Ok(ItemsApi.ItemResponse.From(stored, embedded: true));
        }
        return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The item keeps changing.",
            detail: "Other writes changed the item while the patch was applied; send it again.");
    }

    static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });

    static async Task<JsonObject?> ReadPatchAsync(HttpRequest request, CancellationToken ct)
    {
        using var body = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, ct)) > 0)
        {
            if (body.Length + read > MaxBodyBytes)
                return null;
            body.Write(buffer, 0, read);
        }
        try
        {
            return JsonNode.Parse(body.ToArray()) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>An item's patchable fields as the JSON a patch merges into.</summary>
    static JsonObject Document(ItemFields fields) => new()
    {
        ["title"] = fields.Title,
        ["description"] = fields.Description,
        ["category"] = fields.Category,
        ["brand"] = fields.Brand,
        ["price"] = fields.Price?.ToString(CultureInfo.InvariantCulture),
        ["currency"] = fields.Currency,
        ["available"] = fields.Available,
        ["attributes"] = JsonNode.Parse(fields.Attributes.GetRawText()),
        ["imageUrl"] = fields.ImageUrl,
    };

    /// <summary>The patched document as the strings <see cref="ItemInput"/> validates; a value of the wrong JSON type names its field.</summary>
    static (ItemInput Input, Dictionary<string, string[]> Errors) InputOf(string sku, JsonObject patched)
    {
        var errors = new Dictionary<string, string[]>();
        string? Text(string field)
        {
            var node = patched[field];
            if (node is null)
                return null;
            if (node is JsonValue value && value.TryGetValue<string>(out var text))
                return text;
            errors[field] = [$"The {field} must be a string (or null to clear it)."];
            return null;
        }
        string? Price()
        {
            // A JSON number's own digits, so 19.90 stays 19.90; a string is taken as written.
            var node = patched["price"];
            if (node is null)
                return null;
            if (node is JsonValue value && value.GetValueKind() is JsonValueKind.Number or JsonValueKind.String)
                return value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();
            errors["price"] = ["The price must be a number or a string like \"19.99\" (or null to clear it)."];
            return null;
        }
        string? Available()
        {
            var node = patched["available"];
            if (node is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
                return value.GetValue<bool>() ? "true" : "false";
            errors["available"] = ["Available must be true or false."];
            return null;
        }
        string? Attributes()
        {
            var node = patched["attributes"];
            if (node is null or JsonObject)
                return node?.ToJsonString();
            errors["attributes"] = ["The attributes must be a JSON object (or null to clear them)."];
            return null;
        }
        var input = new ItemInput(sku, Text("title"), Text("description"), Text("category"), Text("brand"), Price(), Text("currency"),
            Available(), Attributes(), Text("imageUrl"));
        return (input, errors);
    }
}
