namespace Similarity.Imports.Formats;

/// <summary>Every catalog format read the same way: a stream of <see cref="SourceRow"/>s, never the whole file at once.</summary>
public static class CatalogReader
{
    public static IEnumerable<SourceRow> Read(string path, CatalogLayout layout, MappedCatalog? mapping = null) => (layout.Format, layout.Syntax) switch
    {
        (CatalogFormat.Native, CatalogSyntax.JsonLines) => NativeCatalog.ReadJsonLines(path),
        (CatalogFormat.Native, _) => NativeCatalog.ReadDelimited(path, layout.Delimiter),
        (CatalogFormat.MerchantCenter, CatalogSyntax.Xml) => MerchantCenterFeed.ReadXml(path),
        (CatalogFormat.MerchantCenter, _) => MerchantCenterFeed.ReadDelimited(path, layout.Delimiter),
        (CatalogFormat.Shopify, _) => ShopifyExport.Read(path, layout.Delimiter),
        (CatalogFormat.Mapped, _) => (mapping ?? throw new ArgumentNullException(nameof(mapping))).Read(path, layout.Delimiter),
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };
}
