using System.Net.Http.Json;
using Similarity.Cli;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;
using Spectre.Console;

namespace Similarity.IntegrationTests.Cli;

/// <summary>The import CLI as a shell runs it: its address and key from the environment, one line and an exit code for every failure.</summary>
public sealed class ImportCliTests(KestrelSimilarityApp app) : IClassFixture<KestrelSimilarityApp>, IDisposable
{
    readonly string _catalog = WriteCatalog("sku,title\ncli-1,Blue mug\ncli-2,\n");
    readonly StringWriter _output = new();

    IAnsiConsole Console
    {
        get
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(_output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
            console.Profile.Width = 10_000; // a terminal wraps long lines; the test reads messages, not wrapping
            return console;
        }
    }

    Task<int> RunAsync(Dictionary<string, string> environment, params string[] args) =>
        ImportCli.RunAsync(args, Console, name => environment.GetValueOrDefault(name), TimeSpan.FromMilliseconds(20));

    [Fact]
    public async Task It_finds_the_service_through_ASPNETCORE_URLS_and_the_key_through_the_services_own_setting()
    {
        var exit = await RunAsync(new() { ["ASPNETCORE_URLS"] = app.Address.ToString(), ["Similarity__AdminApiKey"] = SimilarityApp.AdminKey }, _catalog);

        Assert.Equal(ExitCodes.Succeeded, exit);
        Assert.Contains("1 inserted", _output.ToString(), StringComparison.Ordinal);
        var jobs = await app.CreateAdminClient().GetFromJsonAsync<List<ImportsApi.JobResponse>>("/imports");
        Assert.Contains(jobs!, j => j.Counts.Inserted == 1 && j.Counts.Errors == 1);
    }

    [Fact]
    public async Task Its_summary_counts_rejected_rows_and_rows_stored_with_a_warning_apart()
    {
        var catalog = WriteCatalog("sku,title,imageUrl\ncli-w1,Mug without its picture,http://10.0.0.1/mug.png\ncli-w2,\ncli-w3,Plain mug,\n");
        try
        {
            var exit = await RunAsync(new(), catalog, "--url", app.Address.ToString(), "--key", SimilarityApp.AdminKey, "--missing-image", "textOnly");

            Assert.Equal(ExitCodes.Succeeded, exit);
            Assert.Contains("2 inserted", _output.ToString(), StringComparison.Ordinal);
            Assert.Contains("1 row error, 1 row stored with a warning", _output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(catalog);
        }
    }

    [Fact]
    public async Task Without_a_key_it_says_so_in_one_line_and_sends_nothing()
    {
        var before = (await app.CreateAdminClient().GetFromJsonAsync<List<ImportsApi.JobResponse>>("/imports"))!.Count;

        var exit = await RunAsync(new() { ["ASPNETCORE_URLS"] = app.Address.ToString() }, _catalog, "--key-file", "/nonexistent/admin-api-key");

        Assert.Equal(ExitCodes.Usage, exit);
        AssertOneLine("No admin key");
        Assert.Equal(before, (await app.CreateAdminClient().GetFromJsonAsync<List<ImportsApi.JobResponse>>("/imports"))!.Count);
    }

    [Fact]
    public async Task A_wrong_key_is_a_refusal_with_the_services_reason()
    {
        var exit = await RunAsync(new(), _catalog, "--url", app.Address.ToString(), "--key", "not-the-admin-key-at-all");

        Assert.Equal(ExitCodes.Refused, exit);
        AssertOneLine("(401)");
    }

    [Fact]
    public async Task A_service_that_is_not_there_is_one_line_not_a_stack_trace()
    {
        var closed = new Uri($"http://127.0.0.1:{FreePort()}/");

        var exit = await RunAsync(new() { ["SIMILARITY_ADMIN_API_KEY"] = SimilarityApp.AdminKey, ["ASPNETCORE_URLS"] = closed.ToString() }, _catalog);

        Assert.Equal(ExitCodes.Unreachable, exit);
        AssertOneLine($"Cannot reach the service at {closed}");
    }

    [Theory]
    [InlineData("--images", "/nonexistent/images.zip")]
    [InlineData("--url", "ftp://somewhere/")]
    [InlineData("--no-such-option", "x")]
    public async Task Bad_arguments_are_one_line_and_exit_2(string option, string value)
    {
        var exit = await RunAsync(new() { ["SIMILARITY_ADMIN_API_KEY"] = SimilarityApp.AdminKey }, _catalog, option, value);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Single(_output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_bad_option_names_the_command_a_person_runs_for_its_help()
    {
        var exit = await RunAsync(new() { ["SIMILARITY_ADMIN_API_KEY"] = SimilarityApp.AdminKey }, _catalog, "--format", "excel");

        Assert.Equal(ExitCodes.Usage, exit);
        AssertOneLine($"({CliSettings.ImportName} --help lists the options)");
    }

    [Fact]
    public async Task An_import_prints_each_of_its_messages_once()
    {
        var catalog = WriteCatalog("sku,title\ncli-once-1,Green mug\ncli-once-2,\n");
        var exit = await RunAsync(new() { ["ASPNETCORE_URLS"] = app.Address.ToString(), ["SIMILARITY_ADMIN_API_KEY"] = SimilarityApp.AdminKey }, catalog);

        Assert.Equal(ExitCodes.Succeeded, exit);
        var lines = _output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Empty(lines.GroupBy(line => line).Where(same => same.Count() > 1).Select(same => same.Key));
        Assert.Single(lines, line => line.StartsWith("succeeded_with_errors: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_same_catalog_with_another_pictures_zip_is_a_new_job_and_the_same_files_again_the_same_job()
    {
        var catalog = WriteCatalog("sku,title,image\ncli-zip-1,Green vase,vase.png\n");
        var firstZip = WriteZip(TestImages.Noise(32, 32, seed: 1));
        var secondZip = WriteZip(TestImages.Noise(48, 48, seed: 2));
        var environment = new Dictionary<string, string> { ["ASPNETCORE_URLS"] = app.Address.ToString(), ["SIMILARITY_ADMIN_API_KEY"] = SimilarityApp.AdminKey };
        try
        {
            Assert.Equal(ExitCodes.Succeeded, await RunAsync(environment, catalog, "--images", firstZip));
            Assert.Equal(ExitCodes.Succeeded, await RunAsync(environment, catalog, "--images", secondZip));
            Assert.Equal(ExitCodes.Succeeded, await RunAsync(environment, catalog, "--images", secondZip));

            var jobs = System.Text.RegularExpressions.Regex.Matches(_output.ToString(), @"Import (\S+) queued").Select(m => m.Groups[1].Value).ToList();
            Assert.Equal(3, jobs.Count);
            Assert.NotEqual(jobs[0], jobs[1]);
            Assert.Equal(jobs[1], jobs[2]);
        }
        finally
        {
            foreach (var path in new[] { catalog, firstZip, secondZip })
                File.Delete(path);
        }
    }

    [Fact]
    public async Task A_mapping_in_a_file_is_read_by_the_cli_and_sent_whole()
    {
        var catalog = WriteCatalog("Artikelnummer,Bezeichnung\ncli-map-1,Gelbe Tasse\n");
        var mapping = Path.Combine(Path.GetTempPath(), $"cli-mapping-{Guid.NewGuid():N}.json");
        File.WriteAllText(mapping, """{"sku": "Artikelnummer", "title": "Bezeichnung"}""");
        try
        {
            var exit = await RunAsync(new() { ["ASPNETCORE_URLS"] = app.Address.ToString(), ["SIMILARITY_ADMIN_API_KEY"] = SimilarityApp.AdminKey },
                catalog, "--mapping", "@" + mapping);

            Assert.True(ExitCodes.Succeeded == exit, _output.ToString());
            Assert.Contains("1 inserted", _output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(catalog);
            File.Delete(mapping);
        }
    }

    [Theory]
    [InlineData("catalog")]
    [InlineData("--images")]
    [InlineData("--mapping")]
    public async Task A_file_that_exists_but_cannot_be_read_is_one_line_and_exit_2(string which)
    {
        // A Unix socket exists but cannot be opened as a file, even by root (who reads any file whatever its mode).
        var socketPath = Path.Combine(Path.GetTempPath(), $"cli-unreadable-{Guid.NewGuid():N}");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
        try
        {
            string[] args = which switch
            {
                "catalog" => [socketPath],
                "--images" => [_catalog, "--images", socketPath],
                _ => [_catalog, "--mapping", "@" + socketPath],
            };
            var exit = await RunAsync(new() { ["ASPNETCORE_URLS"] = app.Address.ToString(), ["SIMILARITY_ADMIN_API_KEY"] = SimilarityApp.AdminKey }, args);

            Assert.Equal(ExitCodes.Usage, exit);
            AssertOneLine($"Cannot read {socketPath}");
        }
        finally
        {
            File.Delete(socketPath);
        }
    }

    void AssertOneLine(string expected)
    {
        var lines = _output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one line, got:\n" + _output);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", lines[0], StringComparison.Ordinal);
    }

    static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    static string WriteCatalog(string csv)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cli-catalog-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, csv);
        return path;
    }

    static string WriteZip(byte[] picture)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cli-images-{Guid.NewGuid():N}.zip");
        File.WriteAllBytes(path, ImportClient.Zip(("vase.png", picture)));
        return path;
    }

    public void Dispose()
    {
        File.Delete(_catalog);
        _output.Dispose();
    }
}
