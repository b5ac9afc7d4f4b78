using System.Diagnostics;
using Similarity.Catalog;
using Similarity.Encoders;
using Similarity.Hosting;
using Similarity.Imports.Formats;

namespace Similarity.Imports;

/// <summary>
/// A batch's items through the live set's <see cref="EmbeddingPipeline"/>: an item whose embedded content is stored
/// as it is (same text, same picture, same model set) is not embedded again; the others are prepared (pictures
/// decoded, texts tokenised, the pictures' stored copies encoded) ahead of the models, off the embedding's critical
/// path, then embedded in one batch and each one's fused vector checked. An item that fails any of these is
/// rejected alone.
/// </summary>
sealed class ImportEmbedding(EmbeddingPipeline pipeline, ImportStageMetrics stages)
{
    /// <summary>Sorts out the unchanged items and prepares the others for the models.</summary>
    public PreparedBatch Prepare(int rowCount, List<ImportItem> items, Dictionary<string, StoredContent> stored, BatchOutcome outcome)
    {
        var toEmbed = new List<ImportItem>();
        foreach (var item in items)
        {
            if (stored.TryGetValue(item.Sku, out var current) && current.Content.SameAs(item.ContentWith(pipeline.Fingerprint)))
                outcome.Unchanged.Add(item);
            else
                toEmbed.Add(item);
        }
        var start = Stopwatch.GetTimestamp();
        var embedding = pipeline.PrepareBatch([.. toEmbed.Select(i => new EmbeddingInput(i.Image, i.Text))]);
        stages.Record(ImportStageMetrics.Decode, start);
        start = Stopwatch.GetTimestamp();
        var pictures = StoredCopies(toEmbed);
        stages.Record(ImportStageMetrics.Pictures, start);
        return new PreparedBatch(rowCount, outcome, toEmbed, embedding, pictures);
    }

    /// <summary>
    /// The stored copies of the items' pictures (none where an item has no new picture), encoded in parallel within
    /// the process's decode slots; a picture that cannot be decoded fails alone.
    /// </summary>
    Outcome<NormalisedPicture>[] StoredCopies(List<ImportItem> items)
    {
        var copies = new Outcome<NormalisedPicture>[items.Count];
        var preprocessor = pipeline.Image.Preprocessor;
        Parallel.For(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = preprocessor.MaxConcurrentDecodes }, i =>
        {
            if (items[i].Image is not { } image)
                return;
            try
            {
                copies[i] = new(preprocessor.Normalise(image, "image"), null);
            }
            catch (InputRejectedException ex)
            {
                copies[i] = new(null, ex);
            }
        });
        return copies;
    }

    /// <summary>Runs the models on a prepared batch; its outcome gains the embedded items (and the rejected ones).</summary>
    public BatchOutcome Embed(PreparedBatch batch)
    {
        var outcome = batch.Outcome;
        var items = batch.ToEmbed;
        if (items.Count == 0)
            return outcome;
        var embedded = pipeline.EmbedBatch(batch.Embedding);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (embedded[i] is { Error: { } error })
            {
                RejectPicture(item, error.Message);
                continue;
            }
            var fusion = embedded[i].Value!;
            try
            {
                VectorGuard.Check(fusion.Fused, item.Image is null ? "title" : "image");
            }
            catch (InputRejectedException ex)
            {
                outcome.Rejected.Add(RejectedRow.Naming(item.Row, ex.Message, item.Image is null ? CatalogField.Title : CatalogField.Image));
                continue;
            }
            if (batch.Pictures[i] is { Error: { } pictureError })
            {
                RejectPicture(item, pictureError.Message);
                continue;
            }
            if (batch.Pictures[i].Value is { } picture)
                outcome.Pictures[item.Sku] = picture;
            outcome.Embedded.Add((item, new ItemVectors(fusion.Fused, fusion.Image, fusion.Text, fusion.ImageWeight, fusion.TextWeight)));
        }
        return outcome;

        void RejectPicture(ImportItem item, string reason) => outcome.Rejected.Add(RejectedRow.Naming(item.Row,
            $"Image '{item.Row.Image ?? item.Row.ImageUrl}': {reason}", item.Row.Image is null ? CatalogField.ImageUrl : CatalogField.Image));
    }
}
