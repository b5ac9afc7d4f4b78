namespace Similarity.Catalog;

public static class CatalogExtensions
{
    /// <summary>The item store and the items' pictures.</summary>
    public static WebApplicationBuilder AddCatalog(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CatalogStore>();
        builder.Services.AddSingleton<ItemPictures>();
        return builder;
    }
}
