using System.Security.Cryptography;
using System.Text;
using Similarity.Imports;
using Similarity.Imports.Formats;

namespace Similarity.Bench;

/// <summary>
/// The simulator's catalog: the rows of <c>bench quality</c>'s openclipart test split (models/train/bench_quality.py
/// prepare: catalog.csv + images.zip), read with the service's own catalog reader, each with the top-level folder of
/// its drawing. The folder is not in the file: a SKU is "oc-" + the first 16 hex digits of SHA-256 of the drawing's
/// path (models/train/data.py), so the drawings' paths give it back.
/// </summary>
public static class ShopperCatalog
{
    /// <summary>The SKU models/train/data.py gives the drawing at <paramref name="path"/> (relative to png/, without ".png").</summary>
    public static string SkuOf(string path) => "oc-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path)))[..16];

    /// <summary>SKU → top-level folder of every PNG drawing under <paramref name="pngRoot"/>.</summary>
    public static Dictionary<string, string> Folders(string pngRoot) =>
        Directory.EnumerateFiles(pngRoot, "*.png", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(pngRoot, file)[..^4].Replace('\\', '/'))
            .ToDictionary(SkuOf, path => path.Split('/')[0], StringComparer.Ordinal);

    /// <summary>The rows of <paramref name="catalog"/> whose SKU has a folder, in SKU order; the first <paramref name="limit"/> when above 0.</summary>
    public static IReadOnlyList<(ShopperItem Item, CatalogRow Row)> Read(string catalog, IReadOnlyDictionary<string, string> folders, int limit = 0)
    {
        var rows = CatalogRows.Read(catalog, CatalogLayout.Detect(catalog, null, false), null)
            .Where(r => r.Item.Sku is { } sku && folders.ContainsKey(sku))
            .Select(r => (Item: new ShopperItem(r.Item.Sku!, folders[r.Item.Sku!], r.Item.Title ?? ""), Row: r))
            .OrderBy(r => r.Item.Sku, StringComparer.Ordinal);
        return limit > 0 ? [.. rows.Take(limit)] : [.. rows];
    }

    /// <summary>The chosen rows as a catalog the import takes (sku, title, description, image), every field quoted.</summary>
    public static void Write(string path, IEnumerable<CatalogRow> rows)
    {
        static string Quoted(string? value) => "\"" + (value ?? "").Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        using var csv = new StreamWriter(path, false, new UTF8Encoding(false));
        csv.WriteLine("sku,title,description,image");
        foreach (var row in rows)
            csv.WriteLine(string.Join(',', Quoted(row.Item.Sku), Quoted(row.Item.Title), Quoted(row.Item.Description), Quoted(row.Image)));
    }
}
