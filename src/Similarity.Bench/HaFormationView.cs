using System.Diagnostics;
using Npgsql;

namespace Similarity.Bench;

/// <summary>
/// The formation <c>./similarity.sh db ha start</c> made, seen by <c>bench ha</c>: its nodes (from <c>.data/ha/nodes</c>),
/// the monitor's state, and the faults: a planned switchover through the script, or the primary's node killed with
/// SIGKILL (its keeper's process group and its postmaster) and brought back by <c>db ha start</c>.
/// </summary>
public sealed class HaFormationView(BenchPlace place)
{
    string StateFolder => Path.Combine(place.DataDir, "ha");

    IReadOnlyList<(string Name, int Port, string Data)> Nodes() =>
        File.ReadAllLines(Path.Combine(StateFolder, "nodes")).Select(l => l.Split(' ')).Select(f => (f[0], int.Parse(f[1]), f[2])).ToList();

    /// <summary>The data node whose reported and assigned states are both primary, or null while there is none.</summary>
    public async Task<string?> PrimaryAsync()
    {
        var monitor = Nodes().Single(n => n.Name == "monitor");
        var builder = new NpgsqlConnectionStringBuilder(place.Cluster)
        {
            Host = "127.0.0.1", Port = monitor.Port, Database = "pg_auto_failover", Username = "autoctl_node",
            TargetSessionAttributes = null, Pooling = false, Timeout = 5,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT nodename FROM pgautofailover.current_state('default')
            WHERE current_group_state = 'primary' AND assigned_group_state = 'primary'
            """, connection);
        return await command.ExecuteScalarAsync() as string;
    }

    /// <summary>Polls the monitor until a primary other than <paramref name="old"/> is settled; returns its name.</summary>
    public async Task<string> WaitForPrimaryOtherThanAsync(string old, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (await PrimaryAsync() is { } primary && primary != old)
                return primary;
            await Task.Delay(200);
        }
        throw new TimeoutException($"no new primary in {limit.TotalSeconds} s after {old} failed");
    }

    /// <summary>kill -9 of the node's keeper session (pg_autoctl and what it started) and of its postmaster.</summary>
    public async Task KillNodeAsync(string name)
    {
        var node = Nodes().Single(n => n.Name == name);
        var keeper = int.Parse(File.ReadAllText(Path.Combine(StateFolder, name + ".pid")).Trim());
        var postmaster = File.ReadLines(Path.Combine(node.Data, "postmaster.pid")).First();
        // kill -- -PID kills a whole process group: only ever the keeper's own, never the one this bench runs in.
        var group = ProcessGroupOf(keeper);
        if (group != keeper || group == ProcessGroupOf(Environment.ProcessId))
            throw new InvalidOperationException($"{name}'s keeper (pid {keeper}) does not lead a process group of its own (group {group}): not killing it");
        await RunAsync("kill", "-KILL", "--", "-" + keeper);
        await RunAsync("kill", "-KILL", postmaster);
    }

    /// <summary>The process group of <paramref name="pid"/>: the fifth field of /proc/PID/stat (after the command's parenthesis).</summary>
    static int ProcessGroupOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2]);
    }

    /// <summary><c>./similarity.sh db ha ARGS</c>; returns its standard output.</summary>
    public Task<string> ScriptAsync(params string[] args) =>
        RunAsync(Path.Combine(place.Root, "similarity.sh"), ["db", "ha", .. args]);

    static async Task<string> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        // kill of a process that is already gone (the group took it) is not a failure here.
        if (process.ExitCode != 0 && program != "kill")
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {await error}");
        return await output;
    }
}
