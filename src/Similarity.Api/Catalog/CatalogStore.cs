using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Similarity.Database;

namespace Similarity.Catalog;

/// <summary>An item's own fields, as a client sends them.</summary>
public sealed record ItemFields(
    string Title, string? Description, string? Category, string? Brand, decimal? Price, string? Currency, bool Available, JsonElement Attributes,
    string? ImageUrl = null);

/// <summary>The vectors of one item: fused (unit norm), and the per-modality projections that explain its scores.</summary>
/// <summary>What a catalog page is narrowed to; null is no condition.</summary>
public sealed record CatalogFilter(string? Category, string? Brand, bool? Available, decimal? PriceMin, decimal? PriceMax);

public sealed record ItemVectors(float[] Fused, float[]? Image, float[]? Text, float ImageWeight, float TextWeight);

/// <summary>
/// What an item's vectors were made from: its text's hash, its picture's hash (null: none) and the model set's
/// fingerprint. The unchanged-item rule: a write that brings the content stored keeps the item's vectors and sets
/// only its plain fields (those not embedded); <see cref="CatalogStore.UpdatePlainFieldsSql"/> is that rule in SQL.
/// </summary>
public sealed record EmbeddedContent(byte[] TextHash, byte[]? ImageHash, string Fingerprint)
{
    /// <summary>Whether the vectors made from <paramref name="other"/> would be those made from this content.</summary>
    public bool SameAs(EmbeddedContent other) =>
        TextHash.AsSpan().SequenceEqual(other.TextHash) && ImageHash is null == other.ImageHash is null
        && (ImageHash ?? []).AsSpan().SequenceEqual(other.ImageHash ?? []) && Fingerprint == other.Fingerprint;
}

/// <summary>One item's plain fields, to be written where the item's stored content is <see cref="Content"/>.</summary>
public sealed record PlainFieldsUpdate(string Sku, ItemFields Fields, EmbeddedContent Content);

/// <summary>A stored item, without its vectors.</summary>
public sealed record StoredItem(
    string Sku, ItemFields Fields, bool HasImage, bool HasText, string Fingerprint, float ImageWeight, float TextWeight,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// Items in PostgreSQL. Every write bumps the catalog revision in the same statement. The GET endpoints' reads go to
/// <paramref name="reads"/> (standbys first when there are some); a read that precedes a write (PATCH) to the primary.
/// </summary>
public sealed class CatalogStore(NpgsqlDataSource dataSource, [FromKeyedServices(DatabaseExtensions.ReadsKey)] NpgsqlDataSource reads)
{
    const string Columns = """
        sku, title, description, category, brand, price, currency, available, attributes,
        image_sha256 IS NOT NULL, text_embedding IS NOT NULL, fingerprint, image_weight, text_weight, created_at, updated_at, image_url
        """;

    /// <summary>The columns above, named by table: for statements whose other sources have columns of the same names.</summary>
    static readonly string QualifiedColumns = string.Join(", ", Columns.Split(',').Select(c => "items." + c.Trim()));

    /// <summary>Every column a write sets, in the order of <see cref="ReplaceFromExcluded"/>'s source rows.</summary>
    internal const string WrittenColumns = """
        sku, title, description, category, brand, price, currency, available, attributes, image_sha256,
        text_sha256, fingerprint, embedding, image_embedding, text_embedding, image_weight, text_weight, image_url
        """;

    /// <summary>The ON CONFLICT (sku) assignments that replace a stored item with the incoming one.</summary>
    internal const string ReplaceFromExcluded = """
        title = EXCLUDED.title, description = EXCLUDED.description, category = EXCLUDED.category,
        brand = EXCLUDED.brand, price = EXCLUDED.price, currency = EXCLUDED.currency,
        available = EXCLUDED.available, attributes = EXCLUDED.attributes,
        image_sha256 = EXCLUDED.image_sha256, text_sha256 = EXCLUDED.text_sha256,
        fingerprint = EXCLUDED.fingerprint, embedding = EXCLUDED.embedding,
        image_embedding = EXCLUDED.image_embedding, text_embedding = EXCLUDED.text_embedding,
        image_weight = EXCLUDED.image_weight, text_weight = EXCLUDED.text_weight, image_url = EXCLUDED.image_url, updated_at = now()
        """;

    /// <summary>
    /// When the item exists with the same image and text hashes and the same model fingerprint, updates only
    /// the fields that are not embedded (brand, attributes, price, currency, availability, picture URL) and returns it;
    /// otherwise null.
    /// </summary>
    public async Task<StoredItem?> UpdateIfUnchangedAsync(string sku, ItemFields fields, byte[]? imageHash, byte[] textHash, string fingerprint, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand();
        var update = UpdatePlainFieldsSql(command, [new PlainFieldsUpdate(sku, fields, new EmbeddedContent(textHash, imageHash, fingerprint))], onlyWhereChanged: false);
        command.CommandText = $"""
            WITH updated AS ({update} RETURNING {QualifiedColumns}),
            bump AS (UPDATE catalog_state SET revision = revision + 1 WHERE EXISTS (SELECT 1 FROM updated))
            SELECT * FROM updated
            """;
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>
    /// The unchanged-item rule as one statement (an UPDATE without RETURNING, its parameters added to
    /// <paramref name="command"/>): each row whose stored item has the row's <see cref="EmbeddedContent"/> gets the
    /// row's plain fields (brand, attributes, price, currency, availability, picture URL) and nothing else; a row whose
    /// item changed meanwhile is left alone. <paramref name="onlyWhereChanged"/>: leave a row whose plain fields are
    /// already those, so the statement's count is of rows that changed.
    /// </summary>
    internal static string UpdatePlainFieldsSql(NpgsqlCommand command, IReadOnlyList<PlainFieldsUpdate> rows, bool onlyWhereChanged)
    {
        var p = command.Parameters;
        p.AddWithValue("skus", rows.Select(r => r.Sku).ToArray());
        p.AddWithValue("prices", rows.Select(r => r.Fields.Price).ToArray());
        p.AddWithValue("currencies", rows.Select(r => r.Fields.Currency).ToArray());
        p.AddWithValue("available", rows.Select(r => r.Fields.Available).ToArray());
        p.AddWithValue("image_urls", rows.Select(r => r.Fields.ImageUrl).ToArray());
        p.AddWithValue("brands", rows.Select(r => r.Fields.Brand).ToArray());
        p.AddWithValue("attributes", rows.Select(r => r.Fields.Attributes.GetRawText()).ToArray());
        p.AddWithValue("text_hashes", rows.Select(r => r.Content.TextHash).ToArray());
        p.AddWithValue("image_hashes", rows.Select(r => r.Content.ImageHash).ToArray());
        p.AddWithValue("fingerprints", rows.Select(r => r.Content.Fingerprint).ToArray());
        var changed = !onlyWhereChanged ? "" : """

              AND (items.price IS DISTINCT FROM u.price OR items.currency IS DISTINCT FROM u.currency
                   OR items.available IS DISTINCT FROM u.available OR items.image_url IS DISTINCT FROM u.image_url
                   OR items.brand IS DISTINCT FROM u.brand OR items.attributes IS DISTINCT FROM u.attributes)
            """;
        return $"""
            UPDATE items SET price = u.price, currency = u.currency, available = u.available, image_url = u.image_url,
                             brand = u.brand, attributes = u.attributes, updated_at = now()
            FROM unnest(@skus::text[], @prices::numeric[], @currencies::text[], @available::boolean[], @image_urls::text[], @brands::text[],
                        @attributes::jsonb[], @text_hashes::bytea[], @image_hashes::bytea[], @fingerprints::text[])
                 AS u(sku, price, currency, available, image_url, brand, attributes, text_sha256, image_sha256, fingerprint)
            WHERE items.sku = u.sku AND items.text_sha256 = u.text_sha256 AND items.image_sha256 IS NOT DISTINCT FROM u.image_sha256
              AND items.fingerprint = u.fingerprint{changed}
            """;
    }

    /// <summary>What an item was embedded from and with: its picture's hash, the picture's projection, the model set.</summary>
    public sealed record EmbeddedState(byte[]? ImageHash, float[]? ImageProjection, string Fingerprint);

    /// <summary>The item's picture hash and stored image projection: what a changed text is fused with (PATCH).</summary>
    public async Task<EmbeddedState?> GetEmbeddedStateAsync(string sku, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT image_sha256, image_embedding, fingerprint FROM items WHERE sku = $1");
        command.Parameters.Add(new() { Value = sku });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
            return null;
        return new EmbeddedState(reader.IsDBNull(0) ? null : reader.GetFieldValue<byte[]>(0),
            reader.IsDBNull(1) ? null : reader.GetFieldValue<Vector>(1).ToArray(), reader.GetString(2));
    }

    /// <summary>Creates or replaces the item with freshly embedded vectors; says whether it was created.</summary>
    public async Task<(StoredItem Item, bool Created)> UpsertAsync(
        string sku, ItemFields fields, byte[]? imageHash, byte[] textHash, string fingerprint, ItemVectors vectors, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH upserted AS (
                INSERT INTO items ({WrittenColumns})
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                ON CONFLICT (sku) DO UPDATE SET {ReplaceFromExcluded}
                RETURNING {Columns}, xmax = 0 AS created),
            bump AS (UPDATE catalog_state SET revision = revision + 1)
            SELECT * FROM upserted
            """);
        AddFieldParameters(command, sku, fields);
        command.Parameters.Add(new() { Value = (object?)imageHash ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bytea });
        command.Parameters.Add(new() { Value = textHash });
        command.Parameters.Add(new() { Value = fingerprint });
        command.Parameters.Add(new() { Value = new Vector(vectors.Fused) });
        command.Parameters.Add(VectorParameters.VectorParameter(vectors.Image));
        command.Parameters.Add(VectorParameters.VectorParameter(vectors.Text));
        command.Parameters.Add(new() { Value = vectors.ImageWeight });
        command.Parameters.Add(new() { Value = vectors.TextWeight });
        command.Parameters.Add(Text(fields.ImageUrl));
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (Read(reader), reader.GetBoolean(reader.GetOrdinal("created")));
    }

    /// <summary>The item, read again on a broken pooled connection (see <see cref="DatabaseFaults.ReadWithRetryAsync"/>).</summary>
    public Task<StoredItem?> GetAsync(string sku, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM items WHERE sku = $1");
        command.Parameters.Add(new() { Value = sku });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }, ct);

    /// <summary>The item for GET /items/{sku}: like <see cref="GetAsync"/>, from the reads' data source.</summary>
    public Task<StoredItem?> ReadAsync(string sku, CancellationToken ct) => reads.ReadWithRetryAsync(async ct =>
    {
        await using var command = reads.CreateCommand($"SELECT {Columns} FROM items WHERE sku = $1");
        command.Parameters.Add(new() { Value = sku });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }, ct);

    /// <summary>A page of the catalog in SKU order: up to <paramref name="limit"/> items after <paramref name="afterSku"/>, filtered.</summary>
    public Task<IReadOnlyList<StoredItem>> ListAsync(string? afterSku, int limit, CatalogFilter filter, CancellationToken ct) =>
        reads.ReadWithRetryAsync(async ct =>
    {
        await using var command = reads.CreateCommand($"""
            SELECT {Columns} FROM items
            WHERE ($1::text IS NULL OR sku > $1) AND ($2::text IS NULL OR lower(category) = lower($2))
              AND ($3::text IS NULL OR lower(brand) = lower($3)) AND ($4::boolean IS NULL OR available = $4)
              AND ($5::numeric IS NULL OR price >= $5) AND ($6::numeric IS NULL OR price <= $6)
            ORDER BY sku LIMIT $7
            """);
        command.Parameters.Add(Text(afterSku));
        command.Parameters.Add(Text(filter.Category));
        command.Parameters.Add(Text(filter.Brand));
        command.Parameters.Add(new() { Value = (object?)filter.Available ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Boolean });
        command.Parameters.Add(new() { Value = (object?)filter.PriceMin ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Numeric });
        command.Parameters.Add(new() { Value = (object?)filter.PriceMax ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Numeric });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var items = new List<StoredItem>(limit);
        while (await reader.ReadAsync(ct))
            items.Add(Read(reader));
        return (IReadOnlyList<StoredItem>)items;
    }, ct);

    /// <summary>How many items the filter matches: the catalog page's total, asked once per listing, not per page.</summary>
    public Task<long> CountAsync(CatalogFilter filter, CancellationToken ct) => reads.ReadWithRetryAsync(async ct =>
    {
        await using var command = reads.CreateCommand("""
            SELECT count(*) FROM items
            WHERE (@category::text IS NULL OR lower(category) = lower(@category))
              AND (@brand::text IS NULL OR lower(brand) = lower(@brand)) AND (@available::boolean IS NULL OR available = @available)
              AND (@priceMin::numeric IS NULL OR price >= @priceMin) AND (@priceMax::numeric IS NULL OR price <= @priceMax)
            """);
        command.Parameters.Add(Named("category", Text(filter.Category)));
        command.Parameters.Add(Named("brand", Text(filter.Brand)));
        command.Parameters.Add(new("available", NpgsqlDbType.Boolean) { Value = (object?)filter.Available ?? DBNull.Value });
        command.Parameters.Add(new("priceMin", NpgsqlDbType.Numeric) { Value = (object?)filter.PriceMin ?? DBNull.Value });
        command.Parameters.Add(new("priceMax", NpgsqlDbType.Numeric) { Value = (object?)filter.PriceMax ?? DBNull.Value });
        return (long)(await command.ExecuteScalarAsync(ct))!;

        static NpgsqlParameter Named(string name, NpgsqlParameter parameter)
        {
            parameter.ParameterName = name;
            return parameter;
        }
    }, ct);

    /// <summary>The items of these SKUs that exist, in one query (read again on a broken pooled connection).</summary>
    public Task<IReadOnlyList<StoredItem>> GetManyAsync(string[] skus, CancellationToken ct) => reads.ReadWithRetryAsync(async ct =>
    {
        await using var command = reads.CreateCommand($"SELECT {Columns} FROM items WHERE sku = ANY($1)");
        command.Parameters.Add(new() { Value = skus });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var items = new List<StoredItem>(skus.Length);
        while (await reader.ReadAsync(ct))
            items.Add(Read(reader));
        return (IReadOnlyList<StoredItem>)items;
    }, ct);

    public async Task<bool> DeleteAsync(string sku, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            WITH deleted AS (DELETE FROM items WHERE sku = $1 RETURNING 1),
            bump AS (UPDATE catalog_state SET revision = revision + 1 WHERE EXISTS (SELECT 1 FROM deleted))
            SELECT count(*) FROM deleted
            """);
        command.Parameters.Add(new() { Value = sku });
        return (long)(await command.ExecuteScalarAsync(ct))! > 0;
    }

    static void AddFieldParameters(NpgsqlCommand command, string sku, ItemFields fields)
    {
        command.Parameters.Add(new() { Value = sku });
        command.Parameters.Add(new() { Value = fields.Title });
        command.Parameters.Add(Text(fields.Description));
        command.Parameters.Add(Text(fields.Category));
        command.Parameters.Add(Text(fields.Brand));
        command.Parameters.Add(new() { Value = (object?)fields.Price ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Numeric });
        command.Parameters.Add(Text(fields.Currency));
        command.Parameters.Add(new() { Value = fields.Available });
        command.Parameters.Add(new() { Value = fields.Attributes.GetRawText(), NpgsqlDbType = NpgsqlDbType.Jsonb });
    }

    static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };


    static StoredItem Read(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        new ItemFields(
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetDecimal(5),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.GetBoolean(7),
            JsonElement.Parse(reader.GetString(8)),
            reader.IsDBNull(16) ? null : reader.GetString(16)),
        reader.GetBoolean(9), reader.GetBoolean(10), reader.GetString(11), reader.GetFloat(12), reader.GetFloat(13),
        reader.GetFieldValue<DateTimeOffset>(14), reader.GetFieldValue<DateTimeOffset>(15));
}
