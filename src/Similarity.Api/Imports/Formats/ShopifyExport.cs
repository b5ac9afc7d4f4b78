namespace Similarity.Imports.Formats;

/// <summary>
/// Shopify's product CSV: a product spans consecutive rows sharing its Handle — the first carries the product's
/// fields, the others more variants and more pictures. Each variant becomes an item: its SKU, or the handle when it
/// has none; the product's title with the variant's options; the description reduced from HTML to text; Vendor as
/// brand; Type (else Product Category) as category; the variant's picture, else the product's first.
/// </summary>
public static class ShopifyExport
{
    const string Handle = "Handle", Title = "Title", Body = "Body (HTML)", Vendor = "Vendor", Type = "Type", ProductCategory = "Product Category",
        Tags = "Tags", Published = "Published", Status = "Status", VariantSku = "Variant SKU", VariantPrice = "Variant Price",
        VariantImage = "Variant Image", ImageSrc = "Image Src", ImagePosition = "Image Position", Barcode = "Variant Barcode",
        CompareAt = "Variant Compare At Price";

    public static IEnumerable<SourceRow> Read(string path, char delimiter)
    {
        var product = new List<DelimitedRecord>();
        foreach (var record in DelimitedRecords.Read(path, delimiter))
        {
            if (product.Count > 0 && !string.Equals(record[Handle], product[0][Handle], StringComparison.Ordinal))
            {
                foreach (var row in Variants(product))
                    yield return row;
                product.Clear();
            }
            product.Add(record);
        }
        foreach (var row in Variants(product))
            yield return row;
    }

    static IEnumerable<SourceRow> Variants(List<DelimitedRecord> product)
    {
        if (product.Count == 0)
            yield break;
        var first = product[0];
        var handle = first[Handle]?.Trim() ?? "";
        var pictures = product.Where(r => !string.IsNullOrWhiteSpace(r[ImageSrc]))
            .OrderBy(r => int.TryParse(r[ImagePosition], out var p) ? p : int.MaxValue)
            .Select(r => r[ImageSrc]!.Trim()).ToList();
        var status = first[Status]?.Trim();
        var published = first[Published]?.Trim();
        var available = (string.IsNullOrEmpty(status) || status.Equals("active", StringComparison.OrdinalIgnoreCase))
            && !string.Equals(published, "false", StringComparison.OrdinalIgnoreCase);
        // An image-only row (more pictures of the product) carries no variant.
        var variants = product.Where(r => !string.IsNullOrWhiteSpace(r[VariantSku]) || !string.IsNullOrWhiteSpace(r[VariantPrice])
            || !string.IsNullOrWhiteSpace(r["Option1 Value"])).ToList();
        if (variants.Count == 0)
            variants.Add(first);
        var withoutSku = 0;
        foreach (var variant in variants)
        {
            var row = new SourceRowBuilder(variant.Line);
            if (string.IsNullOrWhiteSpace(handle))
                row.Problem(Handle, "The row has no Handle.");
            var sku = variant[VariantSku];
            if (!string.IsNullOrWhiteSpace(sku))
                row.Set(CatalogField.Sku, sku, VariantSku);
            else
                row.Set(CatalogField.Sku, ++withoutSku == 1 ? handle : $"{handle}-{withoutSku}", Handle);
            var options = Options(variant, first);
            var title = first[Title]?.Trim();
            row.Set(CatalogField.Title, options.Count > 0 && !string.IsNullOrWhiteSpace(title) ? $"{title} — {string.Join(" / ", options.Select(o => o.Value))}" : title, Title);
            if (first[Body] is { } body)
                row.Set(CatalogField.Description, HtmlText.ToText(body), Body);
            row.Set(CatalogField.Brand, first[Vendor], Vendor);
            if (!string.IsNullOrWhiteSpace(first[Type]))
                row.Set(CatalogField.Category, first[Type], Type);
            else
                row.Set(CatalogField.Category, first[ProductCategory], ProductCategory);
            row.Set(CatalogField.Price, variant[VariantPrice], VariantPrice);
            row.Set(CatalogField.Available, available ? "true" : "false", string.IsNullOrEmpty(status) ? Published : Status);
            if (!string.IsNullOrWhiteSpace(variant[VariantImage]))
                row.Set(CatalogField.ImageUrl, variant[VariantImage], VariantImage);
            else if (pictures.Count > 0)
                row.Set(CatalogField.ImageUrl, pictures[0], ImageSrc);
            row.Attribute("handle", handle);
            foreach (var tag in (first[Tags] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                row.Attribute("tags", tag);
            foreach (var (name, value) in options)
                row.Attribute(name.ToLowerInvariant(), value);
            row.Attribute("barcode", variant[Barcode]);
            row.Attribute("compare_at_price", variant[CompareAt]);
            if (!string.IsNullOrWhiteSpace(first[Type]))
                row.Attribute("product_category", first[ProductCategory]);
            yield return row.Build();
        }
    }

    /// <summary>
    /// The variant's option values by option name; Shopify's "Default Title" means the product has no options.
    /// Shopify writes the option names on a product's first row only, so a later variant row takes them from there.
    /// </summary>
    static List<(string Name, string Value)> Options(DelimitedRecord variant, DelimitedRecord first)
    {
        var options = new List<(string, string)>();
        for (var i = 1; i <= 3; i++)
        {
            var value = variant[$"Option{i} Value"]?.Trim();
            if (string.IsNullOrEmpty(value) || value == "Default Title")
                continue;
            var name = variant[$"Option{i} Name"]?.Trim() is { Length: > 0 } own ? own
                : first[$"Option{i} Name"]?.Trim() is { Length: > 0 } product ? product : $"option{i}";
            options.Add((name, value));
        }
        return options;
    }
}
