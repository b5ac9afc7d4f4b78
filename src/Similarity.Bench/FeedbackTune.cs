using System.Diagnostics;

namespace Similarity.Bench;

/// <summary>
/// <c>bench feedback --tune</c>'s step: <c>./similarity.sh models tune --deploy URL KEY --activate</c> against the bench's
/// own database (its <c>ConnectionStrings__Similarity</c>), which retrains the fusion from the logged clicks, deploys the
/// bundle, embeds the catalog and activates it through the API. Returns the live set's name before and after.
/// </summary>
public static class FeedbackTune
{
    /// <summary>
    /// The settings <c>models tune</c> runs with here, chosen on seed 22's held-out days (docs/benchmarks.md, "The tuned fusion measured"): the
    /// softmax over the catalog with distillation 3. They are also the command's defaults; passed explicitly so the bench
    /// keeps measuring this setting if the defaults change.
    /// </summary>
    public static readonly string[] Settings = ["--objective", "softmax", "--distill-weight", "3"];

    public static async Task<(string Before, string After)> RunAsync(BenchPlace place, FeedbackClient client, Uri url, string connectionString, string log)
    {
        var before = await client.LiveModelSetAsync();
        var start = new ProcessStartInfo(Path.Combine(place.Root, "similarity.sh"),
            ["models", "tune", .. Settings, "--deploy", url.ToString().TrimEnd('/'), BenchPlace.AdminKey, "--activate"])
        {
            WorkingDirectory = place.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["ConnectionStrings__Similarity"] = connectionString },
        };
        Console.Error.WriteLine($"./similarity.sh models tune {string.Join(' ', Settings)} --deploy {url} … --activate (its output: {log})");
        using var tune = Process.Start(start) ?? throw new InvalidOperationException("./similarity.sh models tune did not start");
        var (stdout, stderr) = (tune.StandardOutput.ReadToEndAsync(), tune.StandardError.ReadToEndAsync());
        await File.WriteAllTextAsync(log, await stdout + await stderr);
        await tune.WaitForExitAsync();
        if (tune.ExitCode != 0)
            throw new InvalidOperationException($"./similarity.sh models tune exited {tune.ExitCode} (its output: {log})");
        var after = await client.LiveModelSetAsync();
        if (after == before)
            throw new InvalidOperationException($"./similarity.sh models tune ended, but the live model set is still {before} (its output: {log})");
        return (before, after);
    }
}
