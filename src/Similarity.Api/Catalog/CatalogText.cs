using Similarity.Encoders;

namespace Similarity.Catalog;

/// <summary>
/// <c>CatalogText.Of(fields)</c>: the embedded text of an item's fields. The rule itself is
/// <see cref="CatalogText"/>'s, in Encoders; this extension only knows which of Catalog's fields it takes.
/// </summary>
public static class CatalogTextOfFields
{
    extension(CatalogText)
    {
        /// <summary>The text of stored or incoming fields.</summary>
        public static string Of(ItemFields fields) => CatalogText.Compose(fields.Title, fields.Category, fields.Description);
    }
}
