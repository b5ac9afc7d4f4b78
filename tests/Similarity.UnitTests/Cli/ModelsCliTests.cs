using System.Net;
using System.Net.Sockets;
using Similarity.Cli;
using Spectre.Console;

namespace Similarity.UnitTests.Cli;

public sealed class ModelsCliTests
{
    static (IAnsiConsole Console, StringWriter Output) Console()
    {
        var output = new StringWriter();
        return (AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No }), output);
    }

    [Fact]
    public async Task A_folder_without_a_manifest_is_refused_with_the_usage_before_anything_is_sent()
    {
        var (console, output) = Console();
        var folder = Directory.CreateTempSubdirectory("no-manifest-").FullName;
        try
        {
            var code = await ModelsCli.RunAsync(["deploy", folder, "--key", "k"], console, _ => null);

            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains("manifest.json", output.ToString().ReplaceLineEndings(" "), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder);
        }
    }

    [Fact]
    public async Task Without_url_the_address_is_SIMILARITY_URL()
    {
        var (console, output) = Console();
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there any more: the upload is refused at once
        var folder = Directory.CreateTempSubdirectory("set-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "manifest.json"), "{}");
        try
        {
            var environment = new Dictionary<string, string> { [ModelsCli.UrlVariable] = $"http://127.0.0.1:{port}", ["ASPNETCORE_URLS"] = "http://127.0.0.1:1" };
            var code = await ModelsCli.RunAsync(["deploy", folder, "--key", "k"], console, name => environment.GetValueOrDefault(name));

            Assert.Equal(ExitCodes.Unreachable, code);
            Assert.Contains($"127.0.0.1:{port}", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
