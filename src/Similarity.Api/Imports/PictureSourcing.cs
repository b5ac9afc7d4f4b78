using System.Security.Cryptography;
using Similarity.Encoders;
using Similarity.Hosting;
using Similarity.Imports.Formats;
using Similarity.Imports.Pictures;

namespace Similarity.Imports;

/// <summary>
/// Where one run's items get their pictures: a zip entry the row names, or a URL downloaded by the job (at most
/// <c>MaxConcurrentDownloads</c> at once). A picture that cannot be had rejects its row, or keeps it without a
/// picture (a warning) when the upload asked for <c>missingImage=textOnly</c>. A download is conditional where the
/// item, its text and that URL's last answer say the picture may be unchanged.
/// </summary>
sealed class PictureSourcing(PictureFetcher fetcher, EmbeddingPipeline pipeline, ImageArchive? archive, ImportReading reading, SemaphoreSlim downloads)
{
    /// <summary>Starts downloading the pictures given by URL; the items whose picture is in the zip (or none) have no task.</summary>
    public Dictionary<ImportItem, Task<PictureFetch>> StartDownloads(List<ImportItem> items, Dictionary<string, StoredContent> stored, CancellationToken ct)
    {
        var started = new Dictionary<ImportItem, Task<PictureFetch>>();
        foreach (var item in items)
        {
            if (item.Row.Image is not null || item.Fields.ImageUrl is not { } url)
                continue;
            // Ask whether the picture changed only when nothing else would make the item be embedded again.
            var known = stored.TryGetValue(item.Sku, out var current) && current.Source is { } source && current.ImageUrl == url
                && current.Content.SameAs(new(item.TextHash, source.Sha256, pipeline.Fingerprint))
                ? source.Validators : null;
            started[item] = DownloadAsync(url, known, ct);
        }
        return started;
    }

    /// <summary>The URLs whose last answer a batch needs: those of its items without a zip picture (validated, so as stored).</summary>
    public static string[] UrlsOf(List<ImportItem> items) =>
        [.. items.Where(v => v.Row.Image is null && v.Fields.ImageUrl is not null).Select(v => v.Fields.ImageUrl!).Distinct()];

    /// <summary>The item with its picture, or null when its row is rejected (the reason goes to the batch's outcome).</summary>
    public async Task<ImportItem?> SourceAsync(ImportItem item, FetchingBatch batch)
    {
        return batch.Downloads.TryGetValue(item, out var download)
            ? ByUrl(item, await download, batch.Stored, batch.Outcome)
            : FromZip(item, batch.Outcome);
    }

    async Task<PictureFetch> DownloadAsync(string url, PictureValidators? known, CancellationToken ct)
    {
        await downloads.WaitAsync(ct);
        try
        {
            return await fetcher.FetchAsync(url, known, ct);
        }
        finally
        {
            downloads.Release();
        }
    }

    /// <summary>The item with its zip picture read and checked, or null (rejected) when the picture is missing or bad.</summary>
    ImportItem? FromZip(ImportItem item, BatchOutcome outcome)
    {
        if (item.Row.Image is not { } entry)
            return item;
        if (archive is null)
        {
            outcome.Rejected.Add(RejectedRow.Naming(item.Row, $"The row names image '{entry}' but the upload has no images zip.", "image"));
            return null;
        }
        try
        {
            var image = archive.Read(entry);
            if (image is null)
            {
                outcome.Rejected.Add(RejectedRow.Naming(item.Row, $"The image '{entry}' is not in the zip.", "image"));
                return null;
            }
            pipeline.Image.Preprocessor.Check(image, "image");
            return item with { Image = image, ImageHash = SHA256.HashData(image) };
        }
        catch (InputRejectedException ex)
        {
            outcome.Rejected.Add(RejectedRow.Naming(item.Row, $"Image '{entry}': {ex.Message}", "image"));
            return null;
        }
    }

    /// <summary>
    /// The item with its downloaded picture; the stored picture's hash when the server says it is unchanged; without a
    /// picture (and a warning saying so) when it could not be had and the admin asked for textOnly; else null.
    /// </summary>
    ImportItem? ByUrl(ImportItem item, PictureFetch fetch, Dictionary<string, StoredContent> stored, BatchOutcome outcome)
    {
        var url = item.Fields.ImageUrl!;
        string reason;
        switch (fetch)
        {
            case PictureFetch.NotModified:
                return item with { ImageHash = stored[item.Sku].Content.ImageHash };
            case PictureFetch.Fetched fetched:
                var hash = SHA256.HashData(fetched.Bytes);
                outcome.Downloaded.Add(new PictureSource(url, fetched.Validators, hash));
                try
                {
                    pipeline.Image.Preprocessor.Check(fetched.Bytes, "image");
                    return item with { Image = fetched.Bytes, ImageHash = hash };
                }
                catch (InputRejectedException ex)
                {
                    reason = ex.Message;
                }
                break;
            case PictureFetch.Failed failed:
                reason = failed.Reason;
                break;
            default:
                throw new InvalidOperationException($"Unknown picture outcome {fetch}.");
        }
        var column = item.Row.ColumnOf(CatalogField.ImageUrl);
        if (reading.MissingImage == ImportReading.TextOnly)
        {
            outcome.Rejected.Add(new RejectedRow(item.Row, column, $"{url}: {reason}; stored without a picture (missingImage=textOnly).", Stored: true));
            return item;
        }
        outcome.Rejected.Add(new RejectedRow(item.Row, column, $"{url}: {reason}"));
        return null;
    }
}
