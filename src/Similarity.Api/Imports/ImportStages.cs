using System.Threading.Channels;
using Similarity.Encoders;
using Similarity.Imports.Pictures;

namespace Similarity.Imports;

/// <summary>
/// A batch whose rows are screened and whose pictures by URL are downloading; disposing it waits for the downloads
/// still running (they stop when the job's token is cancelled).
/// </summary>
sealed class FetchingBatch(CatalogRow[] rows, BatchOutcome outcome, List<ImportItem> valid, Dictionary<string, StoredContent> stored,
    Dictionary<ImportItem, Task<PictureFetch>> downloads) : IAsyncDisposable
{
    public CatalogRow[] Rows => rows;
    public BatchOutcome Outcome => outcome;
    public List<ImportItem> Valid => valid;
    public Dictionary<string, StoredContent> Stored => stored;
    public Dictionary<ImportItem, Task<PictureFetch>> Downloads => downloads;

    public async ValueTask DisposeAsync()
    {
        foreach (var download in downloads.Values)
        {
            try
            {
                await download;
            }
            catch (OperationCanceledException)
            {
                // The job stopped; a download it started has nothing left to hand on.
            }
        }
    }
}

/// <summary>
/// A batch ready for the models: its outcome so far, the items to embed, their decoded pictures and tokens, and the
/// stored copies of their pictures (in the order of <see cref="ToEmbed"/>; no value where an item has no new picture).
/// </summary>
sealed class PreparedBatch(int rowCount, BatchOutcome outcome, List<ImportItem> toEmbed, EmbeddingBatch embedding,
    Outcome<NormalisedPicture>[] pictures) : IAsyncDisposable
{
    public int RowCount => rowCount;
    public BatchOutcome Outcome => outcome;
    public List<ImportItem> ToEmbed => toEmbed;
    public EmbeddingBatch Embedding => embedding;
    public Outcome<NormalisedPicture>[] Pictures => pictures;

    public ValueTask DisposeAsync()
    {
        embedding.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The channel plumbing between the import's overlapping stages.</summary>
static class ImportStages
{
    /// <summary>
    /// One stage: turns each input into an output for the next stage. Its failure completes the channel with it, so
    /// the stage after it (and finally the writer) sees the error; an output that could not be handed on is released.
    /// </summary>
    public static async Task RunAsync<TIn, TOut>(ChannelWriter<TOut> output, IAsyncEnumerable<TIn> inputs, Func<TIn, Task<TOut>> work, CancellationToken ct)
        where TOut : IAsyncDisposable
    {
        try
        {
            await foreach (var input in inputs.WithCancellation(ct))
            {
                var result = await work(input);
                try
                {
                    await output.WriteAsync(result, ct);
                }
                catch
                {
                    await result.DisposeAsync();
                    throw;
                }
            }
            output.Complete();
        }
        catch (Exception ex)
        {
            output.Complete(ex);
        }
    }

    /// <summary>Waits for the stages to stop (after the caller cancelled them), then releases what they left in the channels.</summary>
    public static async Task DrainAsync<T1, T2>(Task[] stages, Channel<T1> first, Channel<T2> second)
        where T1 : IAsyncDisposable where T2 : IAsyncDisposable
    {
        foreach (var stage in stages)
        {
            try
            {
                await stage;
            }
            catch (OperationCanceledException)
            {
                // Cancelled by the caller on purpose: the stage's own fault reached the writer through its channel.
            }
        }
        while (first.Reader.TryRead(out var left))
            await left.DisposeAsync();
        while (second.Reader.TryRead(out var left))
            await left.DisposeAsync();
    }
}
