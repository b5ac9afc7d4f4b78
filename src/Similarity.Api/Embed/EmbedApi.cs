using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Similarity.Encoders;
using Similarity.Fusion;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Embed;

public static class EmbedApi
{
    public static IEndpointRouteBuilder MapEmbedApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/embed", EmbedAsync)
            .WithName("Embed").WithTags("Embed")
            .WithSummary("Embeds an image and/or a text: raw, projected and fused vectors, attention weights, timings.")
            .WithDescription("Multipart form: an `image` file (JPEG, PNG, WebP or GIF) and/or a `text` field. Stores nothing.")
            .DisableAntiforgery()
            .RequireEncoderCapacity()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return app;
    }

    public sealed record EmbedResponse(
        string Fingerprint,
        float[]? Image,
        float[]? Text,
        float[] Fused,
        float[]? ImageProjected,
        float[]? TextProjected,
        AttentionWeights Attention,
        StageTimings TimingsMs);


    static async Task<Results<Ok<EmbedResponse>, ValidationProblem>> EmbedAsync(
        IFormFile? image, [FromForm] string? text, ModelSets models, IOptions<InputLimits> limits, HttpRequest request,
        CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["Send multipart/form-data with an `image` file and/or a `text` field."] });
        var bytes = image is null ? null : await FormFiles.ReadAsync(image, limits.Value.MaxImageBytes, "image", cancellationToken);
        if (text is { Length: > 0 } && text.Length > limits.Value.MaxTextCharacters)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["text"] = [$"The text has {text.Length} characters; the limit (Similarity:Limits:MaxTextCharacters) is {limits.Value.MaxTextCharacters}."] });
        var embedding = await models.Live.Pipeline.EmbedAsync(bytes, text, cancellationToken);
        var fusion = embedding.Fusion;
        return TypedResults.Ok(new EmbedResponse(
            embedding.Fingerprint, embedding.Image, embedding.Text, fusion.Fused, fusion.Image, fusion.Text,
            new AttentionWeights(fusion.ImageWeight, fusion.TextWeight), embedding.Timings));
    }
}
