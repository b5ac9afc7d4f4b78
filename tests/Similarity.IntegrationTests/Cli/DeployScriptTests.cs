using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Cli;

/// <summary><c>./similarity.sh models deploy DIR</c> against a running service: the folder goes up as a zip, as PUT /models/{name} takes it.</summary>
public sealed class DeployScriptTests(KestrelSimilarityApp app) : IClassFixture<KestrelSimilarityApp>
{
    async Task<(int Code, string Output)> DeployAsync(string key, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(TestPaths.Root, "similarity.sh"), "models", "deploy", .. arguments, "--url", app.Address.ToString().TrimEnd('/')])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["Similarity__AdminApiKey"] = key },
        };
        using var script = Process.Start(start)!;
        var stdout = script.StandardOutput.ReadToEndAsync();
        var stderr = script.StandardError.ReadToEndAsync();
        await script.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        return (script.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task The_script_uploads_a_model_folder_as_the_candidate_and_fails_loudly_when_it_cannot()
    {
        var (refusedCode, refused) = await DeployAsync("a-wrong-admin-key-for-this-test", TestPaths.Models("clipart"), "--name", "viascript");
        Assert.NotEqual(0, refusedCode);
        Assert.Contains("answered 401", refused);

        var (noManifestCode, noManifest) = await DeployAsync(SimilarityApp.AdminKey, Path.GetTempPath());
        Assert.NotEqual(0, noManifestCode);
        Assert.Contains("manifest.json", noManifest);

        var (code, output) = await DeployAsync(SimilarityApp.AdminKey, TestPaths.Models("clipart"), "--name", "viascript");
        Assert.True(code == 0, output);
        var admin = app.CreateAdminClient();
        var models = (await admin.GetFromJsonAsync<JsonElement>("/models")).GetProperty("models").EnumerateArray().ToList();
        var deployed = models.Single(m => m.GetProperty("name").GetString() == "viascript");
        Assert.Equal("candidate", deployed.GetProperty("status").GetString());
        Assert.Equal(256, deployed.GetProperty("imageDimension").GetInt32()); // the clipart set's, not the tiny live one's
    }
}
