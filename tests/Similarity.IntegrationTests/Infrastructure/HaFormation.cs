using System.Diagnostics;
using Npgsql;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>
/// This checkout's pg_auto_failover formation (a monitor, a primary, two standbys on loopback), started or reused
/// through <c>./similarity.sh db ha start</c>, for tests that kill its nodes. Hands out the multi-host connection
/// string and each node's port and postmaster pid, kills a node's postgres or its whole node with SIGKILL, and
/// waits (polling the monitor) for the formation to reach a state. Stopped again at the end only if it found it down.
/// </summary>
public sealed class HaFormation : IAsyncLifetime
{
    static readonly string StateFolder = Path.Combine(TestPaths.Root, ".data", "ha");
    bool _startedHere;

    /// <summary>The multi-host connection string <c>db ha start</c> printed: database similarity, the primary found by Npgsql.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The data nodes (node1..node3), in port order; which one is primary changes with failovers.</summary>
    public IReadOnlyList<HaNode> Nodes { get; private set; } = [];

    public HaNode Monitor { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _startedHere = !File.Exists(Path.Combine(StateFolder, "up"));
        // A formation an earlier run left down is made again: those tests killed its nodes, and pg_auto_failover 2.0's
        // monitor may not come back from that (docs/scaling.md, "Limits").
        if (_startedHere && File.Exists(Path.Combine(StateFolder, "nodes")))
            await WipeAsync();
        await StartAsync();
    }

    static async Task WipeAsync()
    {
        await HaScript.RunAsync(TimeSpan.FromMinutes(2), "db", "ha", "stop");
        var data = File.ReadLines(Path.Combine(StateFolder, "nodes")).First().Split(' ')[2];
        var formation = Path.GetDirectoryName(data)!;
        if (Directory.Exists(formation))
            Directory.Delete(formation, recursive: true);
        Directory.Delete(StateFolder, recursive: true);
    }

    /// <summary>
    /// <c>./similarity.sh db ha start</c>: creates the formation, or runs again the keepers of nodes that were killed,
    /// and returns once there is a primary and two secondaries.
    /// </summary>
    public async Task StartAsync()
    {
        await HaScript.RunAsync(TimeSpan.FromMinutes(8), "db", "ha", "start");
        // The script prints the string without its password; the whole one is kept beside the formation's state.
        ConnectionString = (await File.ReadAllTextAsync(Path.Combine(StateFolder, "connection-string"))).Trim();
        var nodes = (await File.ReadAllLinesAsync(Path.Combine(StateFolder, "nodes")))
            .Select(line => line.Split(' '))
            .Select(f => new HaNode(f[0], int.Parse(f[1]), f[2], int.Parse(f[3])))
            .ToList();
        Monitor = nodes.Single(n => n.Name == "monitor");
        Nodes = nodes.Where(n => n != Monitor).OrderBy(n => n.Port).ToList();
    }

    /// <summary>A connection string to one node only (no failover), e.g. to read what a standby holds.</summary>
    public string NodeConnectionString(HaNode node, string database = "similarity") =>
        new NpgsqlConnectionStringBuilder(ConnectionString)
        {
            Host = "127.0.0.1", Port = node.Port, Database = database, TargetSessionAttributes = null, Pooling = false,
        }.ConnectionString;

    /// <summary>The multi-host string pointed at another database of the formation (one a test created).</summary>
    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database }.ConnectionString;

    /// <summary>The postmaster's pid from its <c>postmaster.pid</c>, or null when the node's postgres is not running.</summary>
    public static int? PostmasterPid(HaNode node)
    {
        var file = Path.Combine(node.DataFolder, "postmaster.pid");
        if (!File.Exists(file))
            return null;
        var pid = int.Parse(File.ReadLines(file).First());
        return IsAlive(pid) ? pid : null;
    }

    /// <summary>kill -9 of the node's postmaster only: its pg_autoctl keeper sees it and starts it again.</summary>
    public static void KillPostgres(HaNode node)
    {
        var pid = PostmasterPid(node) ?? throw new InvalidOperationException($"{node.Name}'s postgres is not running");
        Process.GetProcessById(pid).Kill();
    }

    /// <summary>
    /// kill -9 of the whole node, as when its machine dies: the keeper's process group (pg_autoctl and what it
    /// started) and the postmaster. Nothing restarts it until <see cref="StartAsync"/>.
    /// </summary>
    public static async Task KillNodeAsync(HaNode node)
    {
        var postmaster = PostmasterPid(node);
        await HaScript.RunProgramAsync("kill", "-KILL", "--", "-" + CurrentKeeperPid(node));
        if (postmaster is int pid && IsAlive(pid))
            Process.GetProcessById(pid).Kill();
    }

    static int CurrentKeeperPid(HaNode node) =>
        int.Parse(File.ReadAllText(Path.Combine(StateFolder, node.Name + ".pid")).Trim());

    /// <summary>The monitor's view of every node, as <c>pg_autoctl show state</c> prints it.</summary>
    public async Task<IReadOnlyList<HaNodeState>> StateAsync()
    {
        var monitor = new NpgsqlConnectionStringBuilder(ConnectionString)
        {
            Host = "127.0.0.1", Port = Monitor.Port, Database = "pg_auto_failover", Username = "autoctl_node",
            TargetSessionAttributes = null, Pooling = false, Timeout = 5,
        };
        await using var connection = new NpgsqlConnection(monitor.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT nodename, nodeport, current_group_state::text, assigned_group_state::text FROM pgautofailover.current_state('default')",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        var states = new List<HaNodeState>();
        while (await reader.ReadAsync())
        {
            var name = reader.GetString(reader.GetOrdinal("nodename"));
            states.Add(new HaNodeState(Nodes.Single(n => n.Name == name),
                reader.GetString(reader.GetOrdinal("current_group_state")), reader.GetString(reader.GetOrdinal("assigned_group_state"))));
        }
        return states;
    }

    /// <summary>Polls the monitor until <paramref name="condition"/> holds; fails naming the last state seen.</summary>
    public async Task<IReadOnlyList<HaNodeState>> WaitForStateAsync(
        Func<IReadOnlyList<HaNodeState>, bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<HaNodeState> states = [];
        while (clock.Elapsed < timeout)
        {
            states = await StateAsync();
            if (condition(states))
                return states;
            await Task.Delay(200);
        }
        throw new TimeoutException($"the formation did not reach '{what}' in {timeout.TotalSeconds} s; last: {string.Join(", ", states)}");
    }

    /// <summary>Waits for one primary and two secondaries, each in the state the monitor assigned it.</summary>
    public Task<IReadOnlyList<HaNodeState>> WaitHealthyAsync(TimeSpan timeout) =>
        WaitForStateAsync(HaNodeState.IsHealthy, timeout, "a primary and two secondaries");

    /// <summary>The node that is primary now (the monitor's view, settled).</summary>
    public async Task<HaNode> PrimaryAsync() =>
        (await WaitHealthyAsync(TimeSpan.FromSeconds(60))).Single(s => s.Reported == "primary").Node;

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_startedHere)
            await HaScript.RunAsync(TimeSpan.FromMinutes(2), "db", "ha", "stop");
    }

    static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

/// <summary>One node of the formation: its name (monitor, node1..3), loopback port, data folder and the keeper's pid at start.</summary>
public sealed record HaNode(string Name, int Port, string DataFolder, int KeeperPid);

/// <summary>A node as the monitor sees it: the state it last reported and the one it was assigned.</summary>
public sealed record HaNodeState(HaNode Node, string Reported, string Assigned)
{
    public bool Settled => Reported == Assigned;

    public static bool IsHealthy(IReadOnlyList<HaNodeState> states) =>
        states.Count == 3 && states.All(s => s.Settled)
        && states.Count(s => s.Reported == "primary") == 1 && states.Count(s => s.Reported == "secondary") == 2;

    public override string ToString() => $"{Node.Name}: {Reported}/{Assigned}";
}
