using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Similarity.Hosting;

namespace Similarity.Models;

/// <summary>
/// The model lifecycle, all admin: deploy a set beside the live one, embed the catalog with it in the
/// background, see what it would change, switch to it, switch back, retire it.
/// </summary>
public static class ModelsApi
{
    public const int DefaultSample = 100, MaxSample = 1000;

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/models").WithTags("Models").RequireAdminKey();
        models.MapGet("/", ListAsync)
            .WithName("ListModels")
            .WithSummary("The model sets: the live one, the standby one (candidate, embedding n/N, ready) and the retired ones.")
            .WithDescription("Each with its fingerprint, dimensions, the size of its files and the memory the process grew by when it loaded it; " +
                "the standby set with its embedding progress (items embedded from their current content, of all), rate and ETA.");
        models.MapPut("/{name}", DeployAsync)
            .WithName("DeployModels")
            .WithSummary("Uploads a model bundle (application/zip: manifest.json, the ONNX files, vocabulary, fusion weights) as the candidate set.")
            .WithDescription("Checked as the start checks a manifest — every file's SHA-256, the models' inputs, outputs and dimensions, a trial " +
                "run — and refused with a 422 naming what is wrong. One set is kept beside the live one: 409 while another holds that place.")
            .Accepts<IFormFile>("application/zip")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        models.MapPost("/{name}/embed", EmbedAsync)
            .WithName("EmbedWithModels")
            .WithSummary("Starts embedding every item with the candidate set, in the background, from its stored picture and text.")
            .WithDescription("Resumes after a restart where it was; items written meanwhile are embedded again. GET /models shows the progress; " +
                "once every item is embedded and the set's index built, its status is `ready`.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        models.MapGet("/{name}/diff", DiffAsync)
            .WithName("DiffModels")
            .WithSummary("What switching to the set would change, on `sample` items: overlap@10 of the neighbour lists, rank correlation, top-1 changes.")
            .WithDescription("Exact top-10 by fused cosine under each set for each sampled item; `mostChanged` lists the items whose neighbours change most, with both lists.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        models.MapPost("/{name}/activate", ActivateAsync)
            .WithName("ActivateModels")
            .WithSummary("Makes a ready set live, atomically; the previous live set stays ready, so activating it again is the rollback.")
            .WithDescription("/similar, /search, imports and PUTs switch together; ETags change. Refused (409) unless the set is ready, " +
                "while items changed since it embedded them, and while an import is queued or running.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        models.MapDelete("/{name}", RetireAsync)
            .WithName("RetireModels")
            .WithSummary("Retires a set that is not live: its vectors, its index and (for an uploaded bundle) its files go.")
            .WithDescription("204, then 404 for it; GET /models still lists it as retired. The live set cannot be retired (409): activate another first.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    public sealed record ModelsResponse(IReadOnlyList<ModelSetInfo> Models);

    static async Task<Ok<ModelsResponse>> ListAsync(ModelSetListing listing, CancellationToken ct) =>
        TypedResults.Ok(new ModelsResponse(await listing.ListAsync(ct)));

    static async Task<Results<Created<ModelSetInfo>, ValidationProblem, ProblemHttpResult>> DeployAsync(
        string name, HttpRequest request, ModelDeployment deployment, ModelSetListing listing, IOptions<ModelOptions> options, CancellationToken ct)
    {
        if (!ModelBundle.IsValidName(name))
            return InvalidName();
        if (request.ContentType?.Split(';')[0].Trim() is not ("application/zip" or "application/x-zip-compressed"))
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "The input is not of a supported type.",
                detail: "Send the bundle as an application/zip body (./similarity.sh models deploy DIR makes and sends one).");
        var limit = options.Value.MaxBundleBytes;
        // Kestrel's own cap, raised for this endpoint only; the exact limit is counted below and named in the 413.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = limit + 1024 * 1024;
        // Beside the store, not in /tmp: a bundle may be gigabytes.
        var store = Directory.CreateDirectory(Path.GetFullPath(options.Value.StorePath)).FullName;
        var upload = Path.Combine(store, $".upload-{Guid.NewGuid():N}.zip");
        try
        {
            await using (var file = File.Create(upload))
            {
                var buffer = new byte[81920];
                long received = 0;
                int n;
                while ((n = await request.Body.ReadAsync(buffer, ct)) > 0)
                {
                    received += n;
                    if (received > limit)
                        return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The bundle is too large.",
                            detail: $"The bundle passed {limit} bytes (Similarity:Models:MaxBundleBytes).");
                    await file.WriteAsync(buffer.AsMemory(0, n), ct);
                }
            }
            await deployment.DeployAsync(name, upload, ct);
            return TypedResults.Created($"/models/{name}", (await listing.ListAsync(ct)).First(s => s.Name == name));
        }
        catch (ModelBundleException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "The model bundle is not valid.", detail: ex.Message);
        }
        catch (ModelSetRefusedException ex)
        {
            return Refused(ex);
        }
        finally
        {
            File.Delete(upload);
        }
    }

    static async Task<Results<Accepted<ModelSetInfo>, ValidationProblem, ProblemHttpResult>> EmbedAsync(
        string name, ModelDeployment deployment, ModelSetListing listing, CancellationToken ct)
    {
        if (!ModelBundle.IsValidName(name))
            return InvalidName();
        if (await RefusalOfAsync(() => deployment.StartEmbeddingAsync(name, ct)) is { } refused)
            return refused;
        return TypedResults.Accepted("/models", (await listing.ListAsync(ct)).First(s => s.Name == name));
    }

    static async Task<Results<Ok<ModelDiff.Report>, ValidationProblem, ProblemHttpResult>> DiffAsync(
        string name, ModelSets models, ModelSetListing listing, ModelDiff diff, CancellationToken ct, int sample = DefaultSample)
    {
        if (!ModelBundle.IsValidName(name))
            return InvalidName();
        if (sample is < 1 or > MaxSample)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["sample"] = [$"sample must be 1 to {MaxSample}."] });
        if (models.Standby is not { } standby || standby.Set.Name != name)
            return (await listing.ListAsync(ct)).Any(s => s.Name == name)
                ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not the standby set",
                    detail: $"'{name}' holds no vectors beside the live set's: a diff compares the live set with the standby one.")
                : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such model set", detail: $"No model set is named '{name}'.");
        var report = await diff.CompareAsync(models.Live, standby.Set, sample, ct);
        return report.Sample == 0
            ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing embedded yet",
                detail: $"No item has vectors from both sets yet: POST /models/{name}/embed, then ask again.")
            : TypedResults.Ok(report);
    }

    static async Task<Results<Ok<ModelsResponse>, ValidationProblem, ProblemHttpResult>> ActivateAsync(
        string name, ModelActivation activation, ModelSetListing listing, CancellationToken ct)
    {
        if (!ModelBundle.IsValidName(name))
            return InvalidName();
        if (await RefusalOfAsync(() => activation.ActivateAsync(name, ct)) is { } refused)
            return refused;
        return TypedResults.Ok(new ModelsResponse(await listing.ListAsync(ct)));
    }

    static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> RetireAsync(string name, ModelRetirement retirement, CancellationToken ct)
    {
        if (!ModelBundle.IsValidName(name))
            return InvalidName();
        if (await RefusalOfAsync(() => retirement.RetireAsync(name, ct)) is { } refused)
            return refused;
        return TypedResults.NoContent();
    }

    static ValidationProblem InvalidName() =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = [$"A model set's name is {ModelBundle.NameRuleText}."] });

    /// <summary>The operation's refusal (404 or 409) as a ProblemDetails, or null when it went through.</summary>
    static async Task<ProblemHttpResult?> RefusalOfAsync(Func<Task> operation)
    {
        try
        {
            await operation();
            return null;
        }
        catch (ModelSetRefusedException ex)
        {
            return Refused(ex);
        }
    }

    /// <summary>The one place a refusal's reason becomes a status and a title.</summary>
    internal static ProblemHttpResult Refused(ModelSetRefusedException ex)
    {
        var (status, title) = ex.Reason switch
        {
            ModelRefusal.NoSuchSet => (StatusCodes.Status404NotFound, "No such model set"),
            ModelRefusal.NameTaken => (StatusCodes.Status409Conflict, "Name taken"),
            ModelRefusal.SameSet => (StatusCodes.Status409Conflict, "Same model set"),
            ModelRefusal.StandbySlotTaken => (StatusCodes.Status409Conflict, "Standby slot taken"),
            ModelRefusal.IsLive => (StatusCodes.Status409Conflict, "Live"),
            ModelRefusal.Retired => (StatusCodes.Status409Conflict, "Retired"),
            ModelRefusal.NotLoaded => (StatusCodes.Status409Conflict, "Not loaded"),
            ModelRefusal.NotReady => (StatusCodes.Status409Conflict, "Not ready"),
            ModelRefusal.CatalogBusy => (StatusCodes.Status409Conflict, "The catalog is busy"),
            ModelRefusal.ImportInProgress => (StatusCodes.Status409Conflict, "Import in progress"),
            ModelRefusal.ItemsChanged => (StatusCodes.Status409Conflict, "Items changed"),
            _ => throw new ArgumentOutOfRangeException(nameof(ex), ex.Reason, "A refusal without a status."),
        };
        return TypedResults.Problem(statusCode: status, title: title, detail: ex.Message);
    }
}
