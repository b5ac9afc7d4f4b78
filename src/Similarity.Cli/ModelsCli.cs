using System.CommandLine;
using Spectre.Console;

namespace Similarity.Cli;

/// <summary>
/// <c>./similarity.sh models deploy DIR [--name NAME] [--url URL] [--key KEY]</c>: uploads a model set's folder to a
/// running service as the candidate (<see cref="ModelDeploy"/>). Exits 0 on 201, else non-zero with the status in one line.
/// </summary>
public static class ModelsCli
{
    /// <summary>Where deploy sends when neither --url nor SIMILARITY_URL says otherwise.</summary>
    public const string UrlVariable = "SIMILARITY_URL";

    const string Usage = $"usage: {CliSettings.ModelsName} deploy DIR [--name NAME] [--url URL] [--key KEY] (DIR holds manifest.json)";

    /// <summary>Parses the arguments after <c>models</c> and runs; a parse error is one line and <see cref="ExitCodes.Usage"/>.</summary>
    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, Func<string, string?> environment)
    {
        var parsed = Create(console, environment).Parse(args);
        if (parsed.Errors.Count > 0)
        {
            console.MarkupLineInterpolated($"[red]{parsed.Errors[0].Message}[/] ({Usage})");
            return ExitCodes.Usage;
        }
        return await parsed.InvokeAsync();
    }

    public static RootCommand Create(IAnsiConsole console, Func<string, string?> environment)
    {
        var directory = new Argument<DirectoryInfo?>("dir") { Description = "The model set's folder: manifest.json and the files it names.", Arity = ArgumentArity.ZeroOrOne };
        var name = new Option<string?>("--name") { Description = "The set's name (default: the folder's name)." };
        var url = new Option<string?>("--url") { Description = $"The service's address (default: {UrlVariable}, else {CliSettings.DefaultUrl})." };
        var key = new Option<string?>("--key") { Description = "The admin key (default: SIMILARITY_ADMIN_API_KEY, then Similarity__AdminApiKey, then the key file)." };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "Where ./similarity.sh run keeps the admin key." };
        var deploy = new Command("deploy", "Uploads a model set's folder to a running service as the candidate (PUT /models/NAME).")
        {
            directory, name, url, key, keyFile,
        };
        deploy.SetAction((parsed, ct) => DeployAsync(console, environment, parsed.GetValue(directory), parsed.GetValue(name),
            parsed.GetValue(url), parsed.GetValue(key), parsed.GetValue(keyFile), ct));
        return new RootCommand($"{CliSettings.ModelsName}: model sets on a running service ({CliSettings.ModelsName} deploy DIR uploads one).") { deploy };
    }

    static async Task<int> DeployAsync(IAnsiConsole console, Func<string, string?> environment, DirectoryInfo? directory, string? nameOption,
        string? urlOption, string? keyOption, FileInfo? keyFile, CancellationToken ct)
    {
        if (directory is null || !File.Exists(Path.Combine(directory.FullName, "manifest.json")))
            return Fail(console, ExitCodes.Usage, Usage);
        Uri url;
        try
        {
            url = CliSettings.ServiceUrl(string.IsNullOrWhiteSpace(urlOption) ? environment(UrlVariable) : urlOption, null);
        }
        catch (FormatException ex)
        {
            return Fail(console, ExitCodes.Usage, ex.Message);
        }
        if (CliSettings.AdminKey(keyOption, environment, keyFile?.FullName) is not { } adminKey)
            return Fail(console, ExitCodes.Usage, "No admin key: pass --key, or set SIMILARITY_ADMIN_API_KEY.");

        var name = ModelDeploy.NameOf(directory.FullName, nameOption);
        using var http = new HttpClient { BaseAddress = url, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
        console.MarkupLineInterpolated($"uploading {directory.FullName} as model set '{name}'");
        ModelDeploy.Answer answer;
        try
        {
            answer = await ModelDeploy.PutAsync(http, directory.FullName, name, ct);
        }
        catch (HttpRequestException ex)
        {
            return Fail(console, ExitCodes.Unreachable, $"Cannot reach the service at {url}: {ex.Message}");
        }
        console.WriteLine(answer.Body);
        if (!answer.Created)
            return Fail(console, answer.Status >= 500 ? ExitCodes.Unreachable : ExitCodes.Refused, $"PUT /models/{name} answered {answer.Status}");
        console.MarkupLineInterpolated($"deployed; next: curl -X POST -H 'X-Api-Key: …' {url.ToString().TrimEnd('/')}/models/{name}/embed");
        return ExitCodes.Succeeded;
    }

    static int Fail(IAnsiConsole console, int exitCode, string message)
    {
        console.MarkupLineInterpolated($"[red]{message}[/]");
        return exitCode;
    }
}
