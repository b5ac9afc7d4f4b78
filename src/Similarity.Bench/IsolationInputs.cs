using System.Text;
using NetVips;

namespace Similarity.Bench;

/// <summary>
/// The flood of <c>./similarity.sh bench isolation</c>, as multipart bodies that the load loop sends as they are: a
/// photo-sized JPEG with a text (~260 KB, a product photo's size), and a pixel bomb, a 6 324 × 6 324
/// RGBA PNG at 16 bits a sample, interlaced.
/// </summary>
public static class IsolationInputs
{
    public const string Boundary = "similarity-bench-boundary";

    public static int Write(BenchArgs args)
    {
        var output = Directory.CreateDirectory(args.Get("out")).FullName;
        var jpeg = PhotoLikeJpeg(args.Get("images"), targetBytes: 260 * 1024);
        using var header = Image.NewFromBuffer(jpeg);
        var bomb = SixteenBitPngBomb();
        File.WriteAllBytes(Path.Combine(output, "embed-jpeg.body"), Multipart(jpeg, "photo.jpg", "image/jpeg", "red wool scarf with long fringes"));
        File.WriteAllBytes(Path.Combine(output, "embed-png.body"), Multipart(bomb, "bomb.png", "image/png", text: null));
        Console.Error.WriteLine($"JPEG {header.Width} × {header.Height}, {jpeg.Length / 1024} KB; 16-bit PNG 6324 × 6324, {bomb.Length / 1024} KB");
        return 0;
    }

    /// <summary>A drawing at 1600 px with a photo's grain, at the highest JPEG quality that stays under the target.</summary>
    static byte[] PhotoLikeJpeg(string clipart, int targetBytes)
    {
        var file = Directory.EnumerateFiles(clipart, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        using var thumb = Image.Thumbnail(file, 1600, height: 1600);
        using var flat = thumb.HasAlpha() ? thumb.Flatten([255, 255, 255]) : thumb.Copy();
        using var noise = Image.Gaussnoise(flat.Width, flat.Height, sigma: 24);
        using var grainy = flat.Add(noise);
        using var photo = grainy.Cast(Enums.BandFormat.Uchar);
        for (var quality = 95; quality > 10; quality -= 5)
        {
            var bytes = photo.JpegsaveBuffer(q: quality);
            if (bytes.Length <= targetBytes)
                return bytes;
        }
        throw new InvalidOperationException("No JPEG quality got the photo under the target size.");
    }

    static byte[] SixteenBitPngBomb()
    {
        using var black = Image.Black(6324, 6324, bands: 4);
        using var wide = black.Cast(Enums.BandFormat.Ushort);
        using var rgba16 = wide.Copy(interpretation: Enums.Interpretation.Rgb16);
        return rgba16.PngsaveBuffer(interlace: true);
    }

    static byte[] Multipart(byte[] image, string fileName, string contentType, string? text)
    {
        using var body = new MemoryStream();
        void Write(string s) => body.Write(Encoding.ASCII.GetBytes(s));
        Write($"--{Boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{fileName}\"\r\nContent-Type: {contentType}\r\n\r\n");
        body.Write(image);
        Write("\r\n");
        if (text is not null)
            Write($"--{Boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{text}\r\n");
        Write($"--{Boundary}--\r\n");
        return body.ToArray();
    }
}
