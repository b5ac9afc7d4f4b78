namespace Similarity.Hosting;

/// <summary>What an API key may do: an admin key everything, a storefront key what the storefront calls (reads, search).</summary>
public enum ApiKeyRole
{
    Admin,
    Storefront,
}

/// <summary>
/// The caller an <c>X-Api-Key</c> identifies: its key's id (null for the bootstrap key of configuration), name, role
/// and the token bucket its encoder requests draw from. Set on the request by the key check, read by the rate limiter.
/// </summary>
public sealed record ApiCaller(long? Id, string Name, ApiKeyRole Role, int PerSecond, int Burst)
{
    /// <summary>The role as the API and the database write it.</summary>
    public static string NameOf(ApiKeyRole role) => role == ApiKeyRole.Admin ? "admin" : "storefront";

    /// <summary>The key the request was sent with, once it was recognised; null for an anonymous request.</summary>
    public static ApiCaller? Of(HttpContext context) => context.Features.Get<ApiCaller>();
}

/// <summary>
/// The keys stored beside the bootstrap one, looked up by their secret. Implemented by the Keys feature, so the key
/// check in Hosting needs nothing to its right; with no implementation registered only the bootstrap key is known.
/// </summary>
public interface IApiKeys
{
    /// <summary>The live key whose secret this is, or null.</summary>
    ValueTask<ApiCaller?> FindAsync(string secret, CancellationToken ct);
}
