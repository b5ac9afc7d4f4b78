using System.Diagnostics;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>Runs <c>./similarity.sh</c> (or another program) to completion for the HA fixture; a non-zero exit throws with its output.</summary>
public static class HaScript
{
    /// <summary>./similarity.sh with these arguments, from the checkout's root; returns its standard output.</summary>
    public static Task<string> RunAsync(TimeSpan timeout, params string[] args) =>
        RunProgramAsync(Path.Combine(TestPaths.Root, "similarity.sh"), timeout, args);

    public static Task<string> RunProgramAsync(string program, params string[] args) =>
        RunProgramAsync(program, TimeSpan.FromSeconds(30), args);

    static async Task<string> RunProgramAsync(string program, TimeSpan timeout, string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.Root,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        // The formation's own connection string, not the one the test run was given.
        start.Environment.Remove("ConnectionStrings__Similarity");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} ran past {timeout.TotalSeconds} s: {await error}");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {await output}{await error}");
        return await output;
    }
}
