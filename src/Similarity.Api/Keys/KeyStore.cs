using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Database;
using Similarity.Hosting;

namespace Similarity.Keys;

/// <summary>A stored key as a listing shows it: never its secret, only the hint of it.</summary>
public sealed record StoredKey(long Id, string Name, ApiKeyRole Role, int PerSecond, int Burst, string Hint, DateTimeOffset CreatedAt);

/// <summary>
/// The named keys in table <c>api_keys</c> and the lookup the key check calls on requests that send one. A key found
/// is remembered for <see cref="KeysOptions.CacheSeconds"/> (a storefront sends its key with every request; without
/// the memory each would cost a database round trip before its own work); a wrong key is never remembered, so the
/// memory holds at most the live keys. Deleting a key forgets it here at once.
/// </summary>
public sealed class KeyStore(NpgsqlDataSource dataSource, IOptions<KeysOptions> options, TimeProvider clock) : IApiKeys
{
    readonly ConcurrentDictionary<string, (ApiCaller Caller, DateTimeOffset Until)> _recent = new();

    // Bumped by every revocation: a lookup that read its row before a revocation does not remember what it read.
    long _revocations;

    public async ValueTask<ApiCaller?> FindAsync(string secret, CancellationToken ct)
    {
        var hash = KeySecrets.Hash(secret);
        var cacheKey = Convert.ToHexString(hash);
        var now = clock.GetUtcNow();
        if (_recent.TryGetValue(cacheKey, out var known) && known.Until > now)
            return known.Caller;
        var revocations = Interlocked.Read(ref _revocations);
        var found = await dataSource.ReadWithRetryAsync(async ct =>
        {
            await using var command = dataSource.CreateCommand("SELECT id, name, role, per_second, burst FROM api_keys WHERE secret_hash = $1");
            command.Parameters.Add(new() { Value = hash });
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct)
                ? new ApiCaller(reader.GetInt64(reader.GetOrdinal("id")), reader.GetString(reader.GetOrdinal("name")),
                    RoleOf(reader.GetString(reader.GetOrdinal("role"))), reader.GetInt32(reader.GetOrdinal("per_second")),
                    reader.GetInt32(reader.GetOrdinal("burst")))
                : null;
        }, ct);
        if (found is null)
            _recent.TryRemove(cacheKey, out _);
        else if (options.Value.CacheSeconds > 0 && Interlocked.Read(ref _revocations) == revocations)
        {
            _recent[cacheKey] = (found, now.AddSeconds(options.Value.CacheSeconds));
            // A revocation between the check and the write above may have evicted before the write: look again.
            if (Interlocked.Read(ref _revocations) != revocations)
                _recent.TryRemove(cacheKey, out _);
        }
        return found;
    }

    /// <summary>Stores a new key; returns it with the secret, which is nowhere else from now on.</summary>
    public async Task<(StoredKey Key, string Secret)> CreateAsync(string name, ApiKeyRole role, int perSecond, int burst, CancellationToken ct)
    {
        var secret = KeySecrets.NewSecret();
        var hint = KeySecrets.Hint(secret);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO api_keys (name, role, secret_hash, hint, per_second, burst)
            VALUES (@name, @role, @secret_hash, @hint, @per_second, @burst)
            RETURNING id, created_at
            """);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("role", ApiCaller.NameOf(role));
        command.Parameters.AddWithValue("secret_hash", KeySecrets.Hash(secret));
        command.Parameters.AddWithValue("hint", hint);
        command.Parameters.AddWithValue("per_second", perSecond);
        command.Parameters.AddWithValue("burst", burst);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var key = new StoredKey(reader.GetInt64(reader.GetOrdinal("id")), name, role, perSecond, burst, hint,
            reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("created_at")));
        return (key, secret);
    }

    /// <summary>Every live key, oldest first.</summary>
    public Task<List<StoredKey>> ListAsync(CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand("SELECT id, name, role, per_second, burst, hint, created_at FROM api_keys ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var keys = new List<StoredKey>();
        while (await reader.ReadAsync(ct))
            keys.Add(new StoredKey(reader.GetInt64(reader.GetOrdinal("id")), reader.GetString(reader.GetOrdinal("name")),
                RoleOf(reader.GetString(reader.GetOrdinal("role"))), reader.GetInt32(reader.GetOrdinal("per_second")),
                reader.GetInt32(reader.GetOrdinal("burst")), reader.GetString(reader.GetOrdinal("hint")),
                reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("created_at"))));
        return keys;
    }, ct);

    /// <summary>Revokes a key: deletes its row and forgets it here. False when there is no such key.</summary>
    public async Task<bool> DeleteAsync(long id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM api_keys WHERE id = $1");
        command.Parameters.Add(new() { Value = id });
        var deleted = await command.ExecuteNonQueryAsync(ct) > 0;
        Interlocked.Increment(ref _revocations);
        foreach (var (cacheKey, entry) in _recent)
        {
            if (entry.Caller.Id == id)
                _recent.TryRemove(cacheKey, out _);
        }
        return deleted;
    }

    static ApiKeyRole RoleOf(string role) => role == "admin" ? ApiKeyRole.Admin : ApiKeyRole.Storefront;
}
