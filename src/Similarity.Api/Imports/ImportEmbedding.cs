using Similarity.Catalog;
using Similarity.Encoders;
using Similarity.Hosting;
using Similarity.Imports.Formats;

namespace Similarity.Imports;

/// <summary>
/// A batch's items through the live set's <see cref="EmbeddingPipeline"/>: an item whose embedded content is stored
/// as it is (same text, same picture, same model set) is not embedded again; the others are prepared (pictures
/// decoded, texts tokenised) ahead of the models, then embedded in one batch, each one's fused vector checked and
/// its picture's stored copies made. An item that fails any of these is rejected alone.
/// </summary>
sealed class ImportEmbedding(EmbeddingPipeline pipeline)
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
        var embedding = pipeline.PrepareBatch([.. toEmbed.Select(i => new EmbeddingInput(i.Image, i.Text))]);
        return new PreparedBatch(rowCount, outcome, toEmbed, embedding);
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
            if (item.Image is not null)
            {
                try
                {
                    outcome.Pictures[item.Sku] = pipeline.Image.Preprocessor.Normalise(item.Image, "image");
                }
                catch (InputRejectedException ex)
                {
                    RejectPicture(item, ex.Message);
                    continue;
                }
            }
            outcome.Embedded.Add((item, new ItemVectors(fusion.Fused, fusion.Image, fusion.Text, fusion.ImageWeight, fusion.TextWeight)));
        }
        return outcome;

        void RejectPicture(ImportItem item, string reason) => outcome.Rejected.Add(RejectedRow.Naming(item.Row,
            $"Image '{item.Row.Image ?? item.Row.ImageUrl}': {reason}", item.Row.Image is null ? CatalogField.ImageUrl : CatalogField.Image));
    }
}
