using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Similarity.Encoders;
using Similarity.Fusion;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Catalog;

public static partial class ItemsApi
{
    public static IEndpointRouteBuilder MapItemsApi(this IEndpointRouteBuilder app)
    {
        var items = app.MapGroup("/items").WithTags("Items");
        items.MapPut("/{sku}", PutAsync)
            .WithName("PutItem")
            .WithSummary("Creates or replaces an item; re-embeds only when its image or embedded text changed.")
            .WithDescription("Multipart form: `title` (required), `description`, `category`, `brand`, `price`, `currency`, " +
                "`available`, `attributes` (a JSON object), `imageUrl` (the shop's own address of the picture, shown by storefronts; " +
                "not downloaded) and an `image` file. Send the whole item: fields left out are cleared.")
            .DisableAntiforgery()
            .RequireAdminKey()
            .RequireEncoderCapacity()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        items.MapPatch("/{sku}", PatchAsync)
            .WithName("PatchItem")
            .WithSummary("Changes some of an item's fields (JSON Merge Patch); re-embeds only when its title, category or description changed.")
            .WithDescription("A JSON Merge Patch (RFC 7396, `application/merge-patch+json`) of `title`, `description`, `category`, `brand`, " +
                "`price`, `currency`, `available`, `attributes` (merged member by member; null removes one) and `imageUrl`; null clears a field. " +
                "Brand, attributes, price, currency, availability and imageUrl are not embedded: changing them costs no re-embedding " +
                "(`embedded: false`). A new title, category or description is embedded and fused with the item's stored picture vector.")
            .RequireAdminKey()
            .Accepts<JsonElement>("application/merge-patch+json")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        items.MapGet("/", GetManyAsync)
            .WithName("GetItems").WithSummary("Several items by SKU, or a page of the catalog.")
            .WithDescription($"With `skus` (1 to {MaxSkus}, comma-separated): those items in the order asked, each as `GET /items/{{sku}}` " +
                "answers it, and the SKUs with no item in `missing` (one database query). Without it: a page of the catalog in SKU order, " +
                "`limit` items after `afterSku` (the previous page's `nextAfterSku`), optionally only a `category`, `brand`, `available` state or price range (`priceMin`, `priceMax`); " +
                "the first page (no `afterSku`) also says in `total` how many items match.");
        items.MapGet("/{sku}", GetAsync)
            .WithName("GetItem").WithSummary("An item with its fingerprint and the modalities it has.")
            .WithDescription("Its fields, whether it has an image and a text vector, the attention weights that mixed them and the model set that made them.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        items.MapGet("/{sku}/image", GetPictureAsync)
            .WithName("GetItemImage").WithSummary("The item's picture as stored: a 256 px thumbnail or the 640 px copy.")
            .WithDescription("`size`: `thumb` or `full` (the default). A JPEG, upright, metadata stripped, with a strong ETag " +
                "(`If-None-Match` → 304); 404 when the item has no picture.")
            .Produces(StatusCodes.Status200OK, contentType: "image/jpeg")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);
        items.MapDelete("/{sku}", DeleteAsync)
            .WithName("DeleteItem").WithSummary("Removes an item; it leaves every result at once.")
            .WithDescription("204, then 404 for it; its vectors and pictures go with it.")
            .RequireAdminKey()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public sealed record Modalities(bool Image, bool Text);

    public sealed record ItemResponse(
        string Sku, string Title, string? Description, string? Category, string? Brand, decimal? Price, string? Currency,
        bool Available, string? ImageUrl, JsonElement Attributes, Modalities Modalities, AttentionWeights Attention, string Fingerprint,
        DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, bool? Embedded = null)
    {
        public static ItemResponse From(StoredItem item, bool? embedded = null) => new(
            item.Sku, item.Fields.Title, item.Fields.Description, item.Fields.Category, item.Fields.Brand, item.Fields.Price,
            item.Fields.Currency, item.Fields.Available, item.Fields.ImageUrl, item.Fields.Attributes, new Modalities(item.HasImage, item.HasText),
            new AttentionWeights(item.ImageWeight, item.TextWeight), item.Fingerprint, item.CreatedAt, item.UpdatedAt, embedded);
    }

    static async Task<Results<Created<ItemResponse>, Ok<ItemResponse>, ValidationProblem>> PutAsync(
        string sku,
        [FromForm] string? title, [FromForm] string? description, [FromForm] string? category, [FromForm] string? brand,
        [FromForm] string? price, [FromForm] string? currency, [FromForm] string? available, [FromForm] string? attributes, [FromForm] string? imageUrl,
        IFormFile? image, CatalogStore store, ItemPictures pictures, ModelSets models, IOptions<InputLimits> limits, CancellationToken ct)
    {
        var validated = new ItemInput(sku, title, description, category, brand, price, currency, available, attributes, imageUrl).Validate();
        if (validated.Value is not { } fields)
            return TypedResults.ValidationProblem(validated.Errors);

        var imageBytes = image is { Length: > 0 } ? await FormFiles.ReadAsync(image, limits.Value.MaxImageBytes, "image", ct) : null;
        var text = CatalogText.Of(fields);
        var imageHash = imageBytes is null ? null : System.Security.Cryptography.SHA256.HashData(imageBytes);
        var textHash = CatalogText.Hash(text);

        var set = models.Live;
        var pipeline = set.Pipeline;
        if (await store.UpdateIfUnchangedAsync(sku, fields, imageHash, textHash, set.Fingerprint, ct) is { } unchanged)
        {
            // Stored before pictures were kept, or its picture write was lost: the same upload makes it now.
            if (imageBytes is not null && !await pictures.HasAsync(sku, imageHash!, ct))
                await pictures.SaveAsync(sku, imageHash!, await pipeline.Image.Preprocessor.NormaliseAsync(imageBytes, "image", ct), ct);
            return TypedResults.Ok(ItemResponse.From(unchanged, embedded: false));
        }

        // Everything slow (decoding, the encoders) happens before the model switch's read lock: a PUT never makes an
        // activation, and every request queued behind it, wait for its decodes. Under the lock only the writes run, by
        // the set live then; a switch that came between sends the PUT round again with the new set.
        var picture = imageBytes is null ? null : await pipeline.Image.Preprocessor.NormaliseAsync(imageBytes, "image", ct);
        var embedding = await pipeline.EmbedAsync(imageBytes, text, ct);
        var locked = await models.ReadLockAsync(ct);
        while (models.Live != set)
        {
            locked.Dispose();
            (set, pipeline) = (models.Live, models.Live.Pipeline);
            embedding = await pipeline.EmbedAsync(imageBytes, text, ct);
            locked = await models.ReadLockAsync(ct);
        }
        using var _ = locked;
        var fusion = embedding.Fusion;
        VectorGuard.Check(fusion.Fused, imageBytes is null ? "title" : "image");
        var (item, created) = await store.UpsertAsync(sku, fields, imageHash, textHash, set.Fingerprint,
            new ItemVectors(fusion.Fused, fusion.Image, fusion.Text, fusion.ImageWeight, fusion.TextWeight), ct);
        if (picture is not null)
            await pictures.SaveAsync(sku, imageHash!, picture, ct);
        else
            await pictures.DeleteAsync(sku, ct);
        var response = ItemResponse.From(item, embedded: true);
        return created ? TypedResults.Created($"/items/{sku}", response) : TypedResults.Ok(response);
    }

    public const int MaxSkus = 100;

    /// <param name="Items">The items found, in the order asked or in SKU order.</param>
    /// <param name="Missing">With <c>skus</c>: those with no item.</param>
    /// <param name="NextAfterSku">Listing: the <c>afterSku</c> of the next page, or null on the last.</param>
    /// <param name="Total">Listing, first page (no <c>afterSku</c>): how many items match the filters; null otherwise.</param>
    public sealed record ItemsResponse(IReadOnlyList<ItemResponse> Items, IReadOnlyList<string> Missing, string? NextAfterSku, long? Total = null);

    static async Task<Results<Ok<ItemsResponse>, ValidationProblem>> GetManyAsync(
        [FromQuery] string? skus, [FromQuery] string? afterSku, [FromQuery] string? category, [FromQuery] string? brand,
        [FromQuery] bool? available, [FromQuery] decimal? priceMin, [FromQuery] decimal? priceMax, CatalogStore store, CancellationToken ct,
        [FromQuery] int limit = 24)
    {
        if (skus is null)
            return await ListAsync(afterSku, limit, new CatalogFilter(category, brand, available, priceMin, priceMax), store, ct);
        var (wanted, error) = Sku.ParseList(skus, "skus", MaxSkus);
        if (wanted.Length == 0)
            error = $"Name 1 to {MaxSkus} items as skus=a,b,c.";
        if (error is not null)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["skus"] = [error] });

        var found = (await store.GetManyAsync(wanted, ct)).ToDictionary(item => item.Sku, StringComparer.Ordinal);
        return TypedResults.Ok(new ItemsResponse(
            [.. wanted.Where(found.ContainsKey).Select(sku => ItemResponse.From(found[sku]))],
            [.. wanted.Where(sku => !found.ContainsKey(sku))], null));
    }

    static async Task<Results<Ok<ItemsResponse>, ValidationProblem>> ListAsync(string? afterSku, int limit, CatalogFilter filter,
        CatalogStore store, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (afterSku is not null && !Sku.IsValid(afterSku))
            errors["afterSku"] = [$"afterSku must be {Sku.Rule}."];
        if (Paging.LimitProblem(limit) is { } badLimit)
            errors["limit"] = [badLimit];
        if (FieldRules.TextProblem("category", filter.Category, ItemInput.MaxName) is { } badCategory)
            errors["category"] = [badCategory];
        if (FieldRules.TextProblem("brand", filter.Brand, ItemInput.MaxName) is { } badBrand)
            errors["brand"] = [badBrand];
        if (filter.PriceMin < 0 || filter.PriceMax < 0)
            errors[filter.PriceMin < 0 ? "priceMin" : "priceMax"] = ["Prices are not negative."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        // One more than the page tells whether another page follows.
        var blanked = filter with { Category = Blank(filter.Category), Brand = Blank(filter.Brand) };
        var page = await store.ListAsync(afterSku, limit + 1, blanked, ct);
        var items = page.Take(limit).Select(item => ItemResponse.From(item)).ToList();
        // Counted on the first page alone: a reader paging on has it already, and a page after the first costs no count.
        long? total = afterSku is not null ? null : page.Count <= limit ? page.Count : await store.CountAsync(blanked, ct);
        return TypedResults.Ok(new ItemsResponse(items, [], page.Count > limit ? items[^1].Sku : null, total));

        static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
    }

    static async Task<Results<Ok<ItemResponse>, ProblemHttpResult, ValidationProblem>> GetAsync(string sku, CatalogStore store, CancellationToken ct)
    {
        if (!Sku.IsValid(sku))
            return InvalidSku();
        return await store.ReadAsync(sku, ct) is { } item ? TypedResults.Ok(ItemResponse.From(item)) : Problems.ItemNotFound(sku);
    }

    static async Task<IResult> GetPictureAsync(string sku, [FromQuery] string? size, ItemPictures pictures, HttpContext http, CancellationToken ct)
    {
        if (!Sku.IsValid(sku))
            return InvalidSku();
        PictureSize? wanted = size switch { null or "full" => PictureSize.Full, "thumb" => PictureSize.Thumb, _ => null };
        if (wanted is not { } chosen)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["size"] = ["size is thumb or full."] });
        if (await pictures.GetAsync(sku, chosen, ct) is not { } picture)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No picture.", detail: $"There is no picture of an item with SKU '{sku}'.");

        // Cached for a while, then revalidated by ETag: a new picture shows within the minute.
        http.Response.Headers.CacheControl = "public, max-age=60";
        http.Response.Headers.ETag = picture.ETag;
        if (http.Request.IfNoneMatchHas(picture.ETag))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        return TypedResults.File(picture.Jpeg, "image/jpeg");
    }

    static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> DeleteAsync(string sku, CatalogStore store, CancellationToken ct)
    {
        if (!Sku.IsValid(sku))
            return InvalidSku();
        return await store.DeleteAsync(sku, ct) ? TypedResults.NoContent() : Problems.ItemNotFound(sku);
    }

    internal static ValidationProblem InvalidSku() =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["sku"] = [$"The SKU must be {Sku.Rule}."] });
}
