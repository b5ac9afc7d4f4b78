using System.Diagnostics;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Contract;

/// <summary>
/// Clients generated from the live OpenAPI document work as the README describes: a TypeScript client
/// (openapi-typescript + openapi-fetch, pinned in tests/clients) compiles with tsc --strict against calls written from
/// the README's names, and a C# client (Kiota, pinned in .config/dotnet-tools.json) imports a file and asks for
/// similar items against this service. The generated code lives in a temporary folder, never in the repository;
/// ./similarity.sh test installs both tools, after which they run offline.
/// </summary>
public sealed class GeneratedClientTests(KestrelSimilarityApp app) : IClassFixture<KestrelSimilarityApp>
{
    static readonly string Clients = Path.Combine(TestPaths.Root, "tests", "clients");

    /// <summary>Rows of ./similarity.sh demo's catalog (two of them outside the filters: another category, over 80 EUR).</summary>
    const string DemoRows = """
        sku,title,description,category,brand,price,currency,available
        oc-4247b1b271e6b456,Emperor Penguin,penguin,animals/birds,Contoso,76.93,EUR,true
        oc-1aea28e6c03e48e4,penguin,penguin,animals/birds,Fabrikam,90.11,EUR,true
        oc-0980042b5d0eb232,Tux Head,Tux Head,animals,Wingtip,62.89,EUR,true
        oc-630969bf20196899,Acquila,architetto francesco rollandin,animals/birds,Adventure Works,47.16,EUR,true
        oc-52c19679ea64b87f,Acquila,eagle,animals/birds,Wingtip,23.38,EUR,true
        oc-0fb87400215d168b,of peace,Created with Inkscape,animals/birds,Wingtip,7.26,EUR,true
        """;

    async Task<string> DocumentAsync(string folder)
    {
        var path = Path.Combine(folder, "openapi.json");
        await File.WriteAllTextAsync(path, await app.CreateClient().GetStringAsync("/swagger/v1/swagger.json"));
        return path;
    }

    [Fact]
    public async Task A_typescript_client_compiles_strictly_against_the_readme_calls()
    {
        var tools = Path.Combine(Clients, "node_modules");
        Assert.True(Directory.Exists(tools), "tests/clients/node_modules is missing: ./similarity.sh test installs it (npm ci)");
        var work = Directory.CreateTempSubdirectory("similarity-ts-client-").FullName;
        try
        {
            File.Copy(Path.Combine(Clients, "readme-calls.ts"), Path.Combine(work, "readme-calls.ts"));
            File.Copy(Path.Combine(Clients, "tsconfig.json"), Path.Combine(work, "tsconfig.json"));
            Directory.CreateSymbolicLink(Path.Combine(work, "node_modules"), tools);
            // A member with a default is one the client may leave out (strategy, mapping): not required of a request.
            var generate = await RunAsync("node", [Path.Combine(tools, "openapi-typescript", "bin", "cli.js"), await DocumentAsync(work),
                "--default-non-nullable", "false", "-o", Path.Combine(work, "schema.d.ts")], work);
            Assert.True(generate.ExitCode == 0, "openapi-typescript failed:\n" + generate.Output);

            var compile = await RunAsync("node", [Path.Combine(tools, "typescript", "bin", "tsc"), "-p", "tsconfig.json"], work);

            Assert.True(compile.ExitCode == 0, "the README's calls do not compile against the generated client:\n" + compile.Output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task A_kiota_client_imports_a_file_follows_the_job_and_asks_for_similar_items_with_filters()
    {
        var work = Directory.CreateTempSubdirectory("similarity-kiota-client-").FullName;
        try
        {
            foreach (var file in new[] { "ReadmeCalls.csproj", "Program.cs" })
                File.Copy(Path.Combine(Clients, "kiota", file), Path.Combine(work, file));
            var catalog = Path.Combine(work, "catalog.csv");
            await File.WriteAllTextAsync(catalog, DemoRows + "\n");
            var generate = await RunAsync("dotnet", ["kiota", "generate", "-l", "CSharp", "-d", await DocumentAsync(work), "-o", Path.Combine(work, "Generated"),
                "-n", "Similarity.Client", "-c", "SimilarityClient", "--exclude-backward-compatible", "--log-level", "Warning"], TestPaths.Root);
            Assert.True(generate.ExitCode == 0, "Kiota failed (dotnet tool restore installs it):\n" + generate.Output);
            var build = await RunAsync("dotnet", ["build", "-c", "Release", "-nologo", "-v", "q"], work);
            Assert.True(build.ExitCode == 0, "the README's calls do not compile against the Kiota client:\n" + build.Output);

            var run = await RunAsync("dotnet", ["run", "-c", "Release", "--no-build", "--", app.Address.ToString().TrimEnd('/'), SimilarityApp.AdminKey, catalog], work);

            Assert.True(run.ExitCode == 0, "the README's calls failed:\n" + run.Output);
            Assert.Contains("import Succeeded Native inserted=6 errors=0 total=6", run.Output, StringComparison.Ordinal);
            var results = run.Output.Split('\n').Where(line => line.StartsWith("result ", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, results.Count);
            Assert.All(results, line => Assert.Contains(" animals/birds ", line, StringComparison.Ordinal));
            Assert.DoesNotContain(results, line => line.Contains("oc-1aea28e6c03e48e4", StringComparison.Ordinal)); // 90.11 EUR
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Runs a tool to its end; a dotnet child gets none of this test host's MSBuild settings.</summary>
    static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string[] arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var errors = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }
}
