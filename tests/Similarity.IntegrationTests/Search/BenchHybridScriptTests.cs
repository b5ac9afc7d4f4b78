using Similarity.IntegrationTests.Models;

namespace Similarity.IntegrationTests.Search;

/// <summary>
/// models/train/bench_hybrid.py's pure parts (the fusion it mirrors from the service, the expansions it tried), by their
/// Python unit tests; the bench itself runs against a service (<c>./similarity.sh bench quality --split validation</c>).
/// </summary>
public sealed class BenchHybridScriptTests
{
    [Fact]
    public async Task The_hybrid_benchs_unit_tests_pass()
    {
        var (exitCode, output) = await TuneRun.RunPythonAsync(["-m", "unittest", "discover", "-s", Path.Combine("models", "train"), "-p", "test_bench_hybrid.py"]);
        Assert.True(exitCode == 0, output);
        Assert.Contains("Ran 4 tests", output);
        Assert.Contains("OK", output);
    }
}
