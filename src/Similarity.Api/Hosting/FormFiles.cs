namespace Similarity.Hosting;

public static class FormFiles
{
    /// <summary>Reads an uploaded file into memory, refusing (413) one over <paramref name="maxBytes"/> before allocating.</summary>
    public static async Task<byte[]> ReadAsync(IFormFile file, long maxBytes, string field, CancellationToken cancellationToken)
    {
        if (file.Length > maxBytes)
            throw new InputRejectedException(field, $"The file is {file.Length} bytes; the limit (Similarity:Limits:MaxImageBytes) is {maxBytes}.", InputRejection.OverLimit);
        var bytes = new byte[file.Length];
        await using var stream = file.OpenReadStream();
        await stream.ReadExactlyAsync(bytes, cancellationToken);
        return bytes;
    }
}
