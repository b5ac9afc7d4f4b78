using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Feedback;

/// <summary>
/// <c>/experiments</c> (admin): two rankers compared online by team-draft interleaving on a share of
/// <c>GET /similar/{sku}</c> answers. PUT starts one (afresh, if the name was used), GET tells what it earned and its
/// verdict, DELETE stops it (its results stay readable).
/// </summary>
public static class ExperimentsApi
{
    public static IEndpointRouteBuilder MapExperimentsApi(this IEndpointRouteBuilder app)
    {
        var experiments = app.MapGroup("/experiments").WithTags("Experiments").RequireAdminKey();
        experiments.MapPut("/{name}", PutAsync)
            .WithName("PutExperiment")
            .WithSummary("Starts an experiment: its two sides interleaved (team draft) on a share of GET /similar/{sku} answers.")
            .WithDescription("JSON `{\"control\": {\"blend\": 0}, \"treatment\": {\"blend\": 0.3}, \"share\": 0.1}`. Each side sets " +
                "/similar ranking parameters over the request's own: `blend`, `imageWeight`, `textWeight`, `diversity`. `share` (above 0, " +
                "at most 1): the part of answers interleaved, chosen by a hash of the visitor (else the request id). A PUT of an existing " +
                "name replaces it and starts counting again. 201 when new, 200 when replaced.")
            .ProducesValidationProblem();
        experiments.MapGet("/", ListAsync)
            .WithName("ListExperiments")
            .WithSummary("Every experiment, running ones first, with what each earned and its verdict.")
            .WithDescription("Each as GET /experiments/{name} answers it; stopped ones stay listed with their results.");
        experiments.MapGet("/{name}", GetAsync)
            .WithName("GetExperiment")
            .WithSummary("An experiment's impressions, clicks credited to each side, wins, the treatment's win rate with its 95% interval, and the verdict.")
            .WithDescription("A click credits the side that picked its position in the answer; an answer is won by the side with more " +
                "credited clicks (a tie or no click decides nothing). `winRate` = treatment's wins / decided answers, with a Wilson 95% " +
                "interval. `verdict`: `undecided` below Similarity:Feedback:ExperimentMinDecided decided answers, then `treatment` or " +
                "`control` when the interval excludes 0.5, else `even`.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        experiments.MapDelete("/{name}", DeleteAsync)
            .WithName("StopExperiment")
            .WithSummary("Stops an experiment: no answer is interleaved for it from now on; its results stay readable.")
            .WithDescription("204 (also when it was stopped already), 404 for a name never used. Other instances stop within " +
                "Similarity:Feedback:ExperimentRefresh (5 s).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public sealed record ExperimentRequest(ExperimentSide? Control, ExperimentSide? Treatment, double? Share);

    /// <summary>Clicks or wins per side.</summary>
    public sealed record Sides(long Control, long Treatment);

    public sealed record ExperimentResponse(string Name, string Status, ExperimentSide Control, ExperimentSide Treatment, double Share,
        DateTimeOffset CreatedAt, DateTimeOffset? StoppedAt, long Impressions, Sides Clicks, Sides Wins, long Ties, double? WinRate,
        Interval? Interval, string Verdict);

    public sealed record ExperimentsResponse(IReadOnlyList<ExperimentResponse> Experiments);

    static async Task<Results<Created<ExperimentResponse>, Ok<ExperimentResponse>, ValidationProblem>> PutAsync(
        string name, ExperimentRequest? body, ExperimentStore store, RunningExperiments running, IOptions<FeedbackOptions> options,
        CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!ModelBundle.IsValidName(name))
            errors["name"] = [$"An experiment's name is {ModelBundle.NameRuleText}."];
        if (body?.Control is null)
            errors["control"] = ["control is required: the ranking parameters of side A, e.g. {\"blend\": 0}."];
        if (body?.Treatment is null)
            errors["treatment"] = ["treatment is required: the ranking parameters of side B, e.g. {\"blend\": 0.3}."];
        foreach (var (field, messages) in (body?.Control?.Problems("control") ?? []).Concat(body?.Treatment?.Problems("treatment") ?? []))
            errors[field] = messages;
        if (body?.Share is not { } share || !double.IsFinite(share) || share is <= 0 or > 1)
            errors["share"] = ["share is required: above 0 and at most 1 (the part of GET /similar/{sku} answers interleaved)."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var (experiment, created) = await store.PutAsync(name, body!.Control!, body.Treatment!, body.Share!.Value, ct);
        running.Forget();
        var response = ResponseOf(experiment, new ExperimentTally(0, 0, 0, 0, 0, 0), options.Value);
        return created ? TypedResults.Created($"/experiments/{name}", response) : TypedResults.Ok(response);
    }

    static async Task<Ok<ExperimentsResponse>> ListAsync(ExperimentStore store, IOptions<FeedbackOptions> options, CancellationToken ct)
    {
        var responses = new List<ExperimentResponse>();
        foreach (var experiment in await store.ListAsync(runningOnly: false, ct))
            responses.Add(ResponseOf(experiment, await store.TallyAsync(experiment, ct), options.Value));
        return TypedResults.Ok(new ExperimentsResponse(responses));
    }

    static async Task<Results<Ok<ExperimentResponse>, ProblemHttpResult, ValidationProblem>> GetAsync(
        string name, ExperimentStore store, IOptions<FeedbackOptions> options, CancellationToken ct)
    {
        if (!ModelBundle.IsValidName(name))
            return InvalidName();
        if (await store.GetAsync(name, ct) is not { } experiment)
            return NotFound(name);
        return TypedResults.Ok(ResponseOf(experiment, await store.TallyAsync(experiment, ct), options.Value));
    }

    static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> DeleteAsync(
        string name, ExperimentStore store, RunningExperiments running, CancellationToken ct)
    {
        if (!ModelBundle.IsValidName(name))
            return InvalidName();
        if (!await store.StopAsync(name, ct))
            return NotFound(name);
        running.Forget();
        return TypedResults.NoContent();
    }

    static ExperimentResponse ResponseOf(ExperimentDefinition e, ExperimentTally t, FeedbackOptions options) =>
        new(e.Name, e.Status, e.Control, e.Treatment, e.Share, e.CreatedAt, e.StoppedAt, t.Impressions,
            new Sides(t.ClicksControl, t.ClicksTreatment), new Sides(t.WinsControl, t.WinsTreatment), t.Ties,
            WinRate.Of(t.WinsControl, t.WinsTreatment), WinRate.Wilson(t.WinsTreatment, t.WinsControl + t.WinsTreatment),
            WinRate.Verdict(t.WinsControl, t.WinsTreatment, options.ExperimentMinDecided));

    static ValidationProblem InvalidName() =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = [$"An experiment's name is {ModelBundle.NameRuleText}."] });

    static ProblemHttpResult NotFound(string name) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such experiment.", detail: $"There is no experiment named '{name}'.");
}
