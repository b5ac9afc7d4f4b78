using System.Security.Cryptography;
using System.Text;

namespace Similarity.Keys;

/// <summary>
/// A key's secret and what is kept of it. The secret is 256 random bits (base64url, after a <c>sim_</c> prefix that
/// tells a leaked key for what it is); only its SHA-256 is stored, and a short hint to tell keys apart in a listing.
/// A fast hash is enough here: a slow one (bcrypt, Argon2) makes guessing a low-entropy password expensive, but a
/// 256-bit random secret cannot be guessed at any hash speed, and an unsalted hash lets every request find its key by
/// one indexed lookup instead of a deliberately slow computation per request.
/// </summary>
public static class KeySecrets
{
    public const string Prefix = "sim_";

    /// <summary>A new secret: the prefix and 43 base64url characters.</summary>
    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The SHA-256 of the secret's UTF-8 bytes: what the database keeps and looks keys up by.</summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>The first characters of the secret (the prefix and four more, 24 of its 256 bits), for a listing.</summary>
    public static string Hint(string secret) => secret[..Math.Min(secret.Length, Prefix.Length + 4)] + "…";
}
