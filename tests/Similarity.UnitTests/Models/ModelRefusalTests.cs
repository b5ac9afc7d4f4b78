using Microsoft.AspNetCore.Http;
using Similarity.Models;

namespace Similarity.UnitTests.Models;

public sealed class ModelRefusalTests
{
    public static TheoryData<ModelRefusal> Reasons => [.. Enum.GetValues<ModelRefusal>()];

    [Theory]
    [MemberData(nameof(Reasons))]
    public void Every_refusal_is_a_404_or_409_problem_with_a_title_and_the_services_detail(ModelRefusal reason)
    {
        var problem = ModelsApi.Refused(new ModelSetRefusedException(reason, "what the service said")).ProblemDetails;
        Assert.Equal(reason == ModelRefusal.NoSuchSet ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict, problem.Status);
        Assert.False(string.IsNullOrWhiteSpace(problem.Title));
        Assert.Equal("what the service said", problem.Detail);
    }

    [Fact]
    public void The_titles_are_the_ones_clients_have_seen()
    {
        string? Title(ModelRefusal reason) => ModelsApi.Refused(new ModelSetRefusedException(reason, "")).ProblemDetails.Title;
        Assert.Equal("No such model set", Title(ModelRefusal.NoSuchSet));
        Assert.Equal("Standby slot taken", Title(ModelRefusal.StandbySlotTaken));
        Assert.Equal("Import in progress", Title(ModelRefusal.ImportInProgress));
        Assert.Equal("The catalog is busy", Title(ModelRefusal.CatalogBusy));
    }
}
