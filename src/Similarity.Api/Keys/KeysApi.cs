using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Similarity.Hosting;

namespace Similarity.Keys;

/// <summary>
/// <c>/keys</c>: an admin creates, lists and revokes the named API keys. The secret is in the creation's answer only;
/// a listing never has it. Rotation is two keys live at once: create the new one, move the client, revoke the old.
/// </summary>
public static class KeysApi
{
    public const int MaxName = 100, MaxLimit = 1_000_000;

    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/keys").WithTags("Keys").RequireAdminKey();
        keys.MapPost("/", CreateAsync)
            .WithName("CreateKey")
            .WithSummary("Creates a named API key, admin or storefront, and answers its secret: the only time it is shown.")
            .WithDescription("JSON `{\"name\": \"shop-frontend\", \"role\": \"storefront\", \"perSecond\": 500, \"burst\": 1000}`. " +
                "`role`: `admin` (every route) or `storefront` (reads and search). `perSecond` and `burst`: the key's own bucket for " +
                "encoder requests (`/search`, `/embed`, item writes); left out, Similarity:RateLimits:PerKeyPerSecond and PerKeyBurst. " +
                "Send the answer's `secret` in `X-Api-Key`; only its SHA-256 is kept.");
        keys.MapGet("/", ListAsync)
            .WithName("ListKeys")
            .WithSummary("The live API keys, oldest first, without their secrets.")
            .WithDescription("Each key's id, name, role, limits, creation time and `hint` (the secret's first characters). " +
                "The bootstrap key (Similarity:AdminApiKey) is configuration and not listed.");
        keys.MapDelete("/{id}", DeleteAsync)
            .WithName("RevokeKey")
            .WithSummary("Revokes a key: it is refused from now on (on other instances within Similarity:Keys:CacheSeconds).")
            .WithDescription("204, then 404 for it. Rotate by creating the new key first, moving the client, then revoking the old one.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public sealed record KeyRequest(string? Name, string? Role, int? PerSecond, int? Burst);

    public sealed record KeyInfo(long Id, string Name, string Role, int PerSecond, int Burst, string Hint, DateTimeOffset CreatedAt);

    public sealed record CreatedKey(long Id, string Name, string Role, int PerSecond, int Burst, string Hint, DateTimeOffset CreatedAt, string Secret);

    public sealed record KeysResponse(IReadOnlyList<KeyInfo> Keys);

    static async Task<Results<Created<CreatedKey>, ValidationProblem>> CreateAsync(
        KeyRequest? body, KeyStore store, IOptions<RateLimitOptions> limits, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var name = body?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxName || name.Any(char.IsControl))
            errors["name"] = [$"A key needs a name of 1 to {MaxName} characters, without control characters."];
        ApiKeyRole? role = body?.Role switch { "admin" => ApiKeyRole.Admin, "storefront" => ApiKeyRole.Storefront, _ => null };
        if (role is null)
            errors["role"] = ["role must be admin or storefront."];
        if (body?.PerSecond is < 1 or > MaxLimit)
            errors["perSecond"] = [$"perSecond must be between 1 and {MaxLimit}."];
        if (body?.Burst is < 1 or > MaxLimit)
            errors["burst"] = [$"burst must be between 1 and {MaxLimit}."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var (key, secret) = await store.CreateAsync(name!, role!.Value, body!.PerSecond ?? limits.Value.PerKeyPerSecond,
            body.Burst ?? limits.Value.PerKeyBurst, ct);
        return TypedResults.Created($"/keys/{key.Id}",
            new CreatedKey(key.Id, key.Name, ApiCaller.NameOf(key.Role), key.PerSecond, key.Burst, key.Hint, key.CreatedAt, secret));
    }

    static async Task<Ok<KeysResponse>> ListAsync(KeyStore store, CancellationToken ct) =>
        TypedResults.Ok(new KeysResponse((await store.ListAsync(ct))
            .Select(k => new KeyInfo(k.Id, k.Name, ApiCaller.NameOf(k.Role), k.PerSecond, k.Burst, k.Hint, k.CreatedAt)).ToList()));

    static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(long id, KeyStore store, CancellationToken ct) =>
        await store.DeleteAsync(id, ct)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such key.", detail: $"There is no live API key with id {id}.");
}
