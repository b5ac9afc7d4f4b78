using NetVips;

namespace Similarity.Bench;

/// <summary>Catalog-like inputs: openclipart PNGs re-encoded as the JPEGs a shop would upload.</summary>
public static class SampleImages
{
    public static List<byte[]> Load(string directory, int count, int size = 600)
    {
        var files = Directory.EnumerateFiles(directory, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(count * 2);
        var images = new List<byte[]>();
        foreach (var file in files)
        {
            try
            {
                using var thumb = Image.Thumbnail(file, size, height: size);
                using var flat = thumb.HasAlpha() ? thumb.Flatten([255, 255, 255]) : thumb.Copy();
                images.Add(flat.JpegsaveBuffer(q: 90));
            }
            catch (VipsException)
            {
                // a few clipart files are unreadable; skip them
            }
            if (images.Count == count)
                break;
        }
        if (images.Count < count)
            throw new InvalidOperationException($"Only {images.Count} usable images under {directory}.");
        return images;
    }
}
