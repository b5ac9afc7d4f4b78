using Similarity.Cli;

namespace Similarity.UnitTests.Cli;

public sealed class ModelDeployTests
{
    [Fact]
    public void A_set_is_named_after_its_folder_unless_a_name_is_given()
    {
        var folder = Directory.CreateTempSubdirectory("clipart-").FullName;
        try
        {
            Assert.Equal(Path.GetFileName(folder), ModelDeploy.NameOf(folder + "/", null));
            Assert.Equal("candidate", ModelDeploy.NameOf(folder, "candidate"));
        }
        finally
        {
            Directory.Delete(folder);
        }
    }
}
