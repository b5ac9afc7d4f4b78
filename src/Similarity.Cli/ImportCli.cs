using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Similarity.Cli;

/// <summary>
/// <c>./similarity.sh import CATALOG [--images ZIP] [--format F] [--mapping M] [--missing-image skip|textOnly] [--url URL] [--key KEY]</c>: the command line around
/// <see cref="ImportCommand"/>. Every failure is one line and an exit code from <see cref="ExitCodes"/>, never a stack trace.
/// </summary>
public static class ImportCli
{
    public static RootCommand Create(IAnsiConsole console, Func<string, string?> environment, TimeSpan pollInterval)
    {
        var catalog = new Argument<FileInfo>("catalog")
        {
            Description = "The catalog file: our CSV, TSV or JSON Lines, a Merchant Center feed (TSV/CSV or RSS/Atom XML), a Shopify product CSV, or any CSV with --mapping.",
        };
        var images = new Option<FileInfo?>("--images") { Description = "A zip of the pictures the catalog's image column names." };
        var url = new Option<string?>("--url") { Description = $"The service's address (default: the first of ASPNETCORE_URLS, else {CliSettings.DefaultUrl})." };
        var key = new Option<string?>("--key") { Description = "The admin key (default: SIMILARITY_ADMIN_API_KEY, then Similarity__AdminApiKey, then the key file)." };
        var format = new Option<string?>("--format") { Description = "native, merchant-center or shopify (default: detected by the service from the file)." };
        format.AcceptOnlyFromAmong("native", "merchant-center", "shopify");
        var mapping = new Option<string?>("--mapping") { Description = "For any other CSV: a JSON object from our fields to your columns, or @FILE holding one." };
        var missingImage = new Option<string?>("--missing-image") { Description = "skip (default: a row whose picture cannot be downloaded is an error) or textOnly (stored without one)." };
        missingImage.AcceptOnlyFromAmong("skip", "textOnly");
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "Where ./similarity.sh run keeps the admin key (the script passes its checkout's .data/admin-api-key)." };
        var root = new RootCommand($"{CliSettings.ImportName} CATALOG [options]: uploads a catalog to a running Similarity service, follows the import job " +
            $"with a progress bar and prints its row errors. {CliSettings.ModelsName} deploy DIR uploads a model set instead. {ExitCodes.Summary}")
        {
            catalog, images, url, key, format, mapping, missingImage, keyFile,
        };
        root.SetAction((parsed, ct) => RunAsync(console, environment, pollInterval, parsed.GetRequiredValue(catalog), parsed.GetValue(images),
            parsed.GetValue(url), parsed.GetValue(key), parsed.GetValue(keyFile),
            new ImportCommand.Fields(parsed.GetValue(format), parsed.GetValue(mapping), parsed.GetValue(missingImage)), ct));
        return root;
    }

    /// <summary>Parses and runs; a parse error is one line and <see cref="ExitCodes.Usage"/>.</summary>
    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, Func<string, string?> environment, TimeSpan pollInterval)
    {
        // No response files: `--mapping @FILE` is ours to read (System.CommandLine would splice the JSON in as tokens).
        var parsed = Create(console, environment, pollInterval).Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            // One line: System.CommandLine lists the allowed values of an option one per line.
            var message = string.Join(" ", parsed.Errors[0].Message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            console.MarkupLineInterpolated($"[red]{message}[/] ({CliSettings.ImportName} --help lists the options)");
            return ExitCodes.Usage;
        }
        return await parsed.InvokeAsync();
    }

    static async Task<int> RunAsync(IAnsiConsole console, Func<string, string?> environment, TimeSpan pollInterval,
        FileInfo catalog, FileInfo? images, string? urlOption, string? keyOption, FileInfo? keyFile, ImportCommand.Fields fields, CancellationToken ct)
    {
        if (fields.Mapping is ['@', .. var mappingFile])
        {
            if (!File.Exists(mappingFile))
                return Fail(console, ExitCodes.Usage, $"No such file: {Path.GetFullPath(mappingFile)}");
            try
            {
                fields = fields with { Mapping = await File.ReadAllTextAsync(mappingFile, ct) };
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Fail(console, ExitCodes.Usage, $"Cannot read {Path.GetFullPath(mappingFile)}: {ex.Message}");
            }
        }
        foreach (var file in new[] { catalog, images })
        {
            if (file is { Exists: false })
                return Fail(console, ExitCodes.Usage, $"No such file: {file.FullName}");
            if (file is not null && Unreadable(file.FullName) is { } reason)
                return Fail(console, ExitCodes.Usage, $"Cannot read {file.FullName}: {reason}");
        }
        Uri url;
        try
        {
            url = CliSettings.ServiceUrl(urlOption, environment("ASPNETCORE_URLS"));
        }
        catch (FormatException ex)
        {
            return Fail(console, ExitCodes.Usage, ex.Message);
        }
        if (CliSettings.AdminKey(keyOption, environment, keyFile?.FullName) is not { } adminKey)
            return Fail(console, ExitCodes.Usage,
                "No admin key: pass --key, or set SIMILARITY_ADMIN_API_KEY (the key ./similarity.sh run printed when it made it).");

        using var http = new HttpClient { BaseAddress = url, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
        try
        {
            return await new ImportCommand(http, console, pollInterval).RunAsync(catalog.FullName, images?.FullName, ct, fields);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Fail(console, ExitCodes.Interrupted, "Stopped following the import; the job goes on in the service (GET /imports lists it, the imports page shows it).");
        }
        catch (HttpRequestException ex)
        {
            return Fail(console, ExitCodes.Unreachable, ex.StatusCode is { } status
                ? $"The service at {url} answered {(int)status} ({status})."
                : $"Cannot reach the service at {url}: {ex.Message}");
        }
        catch (JsonException)
        {
            return Fail(console, ExitCodes.Unreachable, $"What answers at {url} is not the Similarity API (its reply is not the JSON expected).");
        }
        catch (HttpIOException ex)
        {
            return Fail(console, ExitCodes.Unreachable, $"The connection to {url} broke: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A file that was readable a moment ago and is not any more (removed, permissions changed) while uploading.
            return Fail(console, ExitCodes.Usage, $"Cannot read the catalog or the pictures: {ex.Message}");
        }
    }

    /// <summary>Why a file that exists cannot be opened for reading (permissions, not a regular file), or null when it can.</summary>
    static string? Unreadable(string path)
    {
        try
        {
            File.OpenRead(path).Dispose();
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    static int Fail(IAnsiConsole console, int exitCode, string message)
    {
        console.MarkupLineInterpolated($"[red]{message}[/]");
        return exitCode;
    }
}
