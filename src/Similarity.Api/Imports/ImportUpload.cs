using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Similarity.Hosting;

namespace Similarity.Imports;

/// <summary>
/// A streamed upload: where its parts were spooled, how to read it (the form's <c>format</c>, <c>mapping</c> and
/// <c>missingImage</c> fields) and the SHA-256 of everything received, those fields included.
/// </summary>
public sealed record SpooledUpload(string Directory, string CatalogPath, string? ImagesPath, ImportReading Reading, byte[] BodySha256, string? FileName = null);

/// <summary>The multipart form POST /imports takes, for the OpenAPI document (the handler streams the body itself).</summary>
public sealed record ImportUploadForm(IFormFile Catalog, IFormFile? Images, string? Format, string? Mapping, string? MissingImage);

/// <summary>
/// Streams a multipart upload (<c>catalog</c>, optional <c>images</c>) straight to the job's spool folder,
/// never holding it in memory, counting bytes against the limit as they arrive. The small text fields are read
/// into memory up to <see cref="MaxFieldCharacters"/>.
/// </summary>
public static class ImportUpload
{
    /// <summary>The longest <c>format</c>, <c>mapping</c> or <c>missingImage</c> field taken.</summary>
    public const int MaxFieldCharacters = 16_384;

    /// <summary>The longest catalog file name kept; a longer one is not kept at all.</summary>
    public const int MaxFileNameCharacters = 255;

    static readonly string[] TextFields = ["format", "mapping", "missingImage"];

    public static async Task<SpooledUpload> SpoolAsync(HttpRequest request, string directory, ImportOptions options, CancellationToken ct)
    {
        // Kestrel's own cap, raised for this endpoint only; the exact limit is counted below and named in the 413.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = options.MaxUploadBytes + 1024 * 1024;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(contentType.Boundary).Value is not { Length: > 0 } boundary)
            throw new InputRejectedException("catalog", "Send multipart/form-data with a `catalog` file (CSV, TSV, JSON Lines or a Merchant Center XML feed) and an optional `images` zip.");

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var reader = new MultipartReader(boundary, request.Body);
        string? catalogPath = null, imagesPath = null, fileName = null;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        long received = 0;
        while (await ReadAsync(() => reader.ReadNextSectionAsync(ct)) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                continue;
            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
            string? target = null;
            if ((name == "catalog" && catalogPath is not null) || (name == "images" && imagesPath is not null) || (name is not null && fields.ContainsKey(name)))
                throw new InputRejectedException(name!, $"The upload has more than one `{name}` part.");
            if (name is not null && TextFields.Contains(name))
            {
                fields[name] = await ReadFieldAsync(section, name, ct);
                hash.AppendData(Encoding.UTF8.GetBytes($"\n--{name}\n{fields[name]}"));
                continue;
            }
            if (name == "catalog")
            {
                target = catalogPath = Path.Combine(directory, "catalog");
                fileName = FileNameOf(disposition);
            }
            else if (name == "images")
                target = imagesPath = Path.Combine(directory, "images.zip");
            hash.AppendData(Encoding.UTF8.GetBytes($"\n--{name}\n"));
            await using var output = target is null ? Stream.Null : ImportSpool.CreateFile(target);
            var buffer = new byte[81920];
            int n;
            while ((n = await ReadAsync(() => section.Body.ReadAsync(buffer, ct).AsTask())) > 0)
            {
                received += n;
                if (received > options.MaxUploadBytes)
                    throw new InputRejectedException(name ?? "body", $"The upload passed {options.MaxUploadBytes} bytes (Similarity:Imports:MaxUploadBytes).", InputRejection.OverLimit);
                if (target is not null)
                {
                    hash.AppendData(buffer, 0, n);
                    await output.WriteAsync(buffer.AsMemory(0, n), ct);
                }
            }
        }
        if (catalogPath is null)
            throw new InputRejectedException("catalog", "The upload has no `catalog` file.");
        var missingImage = fields.GetValueOrDefault("missingImage") is { Length: > 0 } given ? given : ImportReading.Skip;
        if (missingImage is not (ImportReading.Skip or ImportReading.TextOnly))
            throw new InputRejectedException("missingImage", $"missingImage must be {ImportReading.Skip} (a row whose picture cannot be downloaded is an error) or {ImportReading.TextOnly} (it is stored without one).");
        var reading = new ImportReading(Blank(fields.GetValueOrDefault("format")), Blank(fields.GetValueOrDefault("mapping")), missingImage);
        return new SpooledUpload(directory, catalogPath, imagesPath, reading, hash.GetHashAndReset(), fileName);
    }

    /// <summary>The catalog part's file name as the client sent it (shown in the recent imports), without any folder.</summary>
    static string? FileNameOf(ContentDispositionHeaderValue disposition)
    {
        var sent = HeaderUtilities.RemoveQuotes(disposition.FileNameStar).Value is { Length: > 0 } star ? star : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
        if (string.IsNullOrWhiteSpace(sent))
            return null;
        var name = sent.Replace('\\', '/').Split('/')[^1].Trim();
        return name.Length == 0 || Catalog.FieldRules.TextProblem("catalog", name, MaxFileNameCharacters) is not null ? null : name;
    }

    static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    static async Task<string> ReadFieldAsync(MultipartSection section, string name, CancellationToken ct)
    {
        using var reader = new StreamReader(section.Body, Encoding.UTF8);
        var buffer = new char[MaxFieldCharacters + 1];
        var read = await ReadAsync(() => reader.ReadBlockAsync(buffer, ct).AsTask());
        if (read > MaxFieldCharacters)
            throw new InputRejectedException(name, $"The `{name}` field is longer than {MaxFieldCharacters} characters.", InputRejection.OverLimit);
        var value = new string(buffer, 0, read);
        if (Catalog.FieldRules.TextProblem(name, value, MaxFieldCharacters) is { } problem)
            throw new InputRejectedException(name, problem);
        return value;
    }

    /// <summary>
    /// A body that breaks the multipart format or ends early is the client's fault: a 400, not a 500. (Kestrel's
    /// own BadHttpRequestException, e.g. a body over its limit, is an IOException too and keeps its status.)
    /// </summary>
    static async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (IOException ex) when (ex is not BadHttpRequestException)
        {
            throw new InputRejectedException("body", "The multipart body is malformed or ended early.");
        }
    }
}
