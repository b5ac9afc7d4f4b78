namespace Similarity.Insight;

/// <summary>Which of an item's vectors a comparison reads: <c>image</c>, <c>text</c> or <c>fused</c> (the API's <c>by</c>).</summary>
public static class Modality
{
    public const string Image = "image", Text = "text", Fused = "fused";

    public static readonly string[] All = [Image, Text, Fused];

    /// <summary>The items column holding that vector; null for a name that is none of the three.</summary>
    public static string? ColumnOf(string? by) => by switch
    {
        Image => "image_embedding",
        Text => "text_embedding",
        Fused => "embedding",
        _ => null,
    };
}
