using System.Diagnostics;
using System.Diagnostics.Metrics;
using Similarity.Hosting;

namespace Similarity.Database;

/// <summary>
/// Which kind of host answered a request's statements — <c>standby</c>, or <c>primary</c> when any of them ran there —
/// learnt from Npgsql's own command activities (their <c>server.address</c> and <c>server.port</c>) and the roles
/// <see cref="StandbyRotation"/> observed. Only with several hosts: <see cref="Consistency"/> writes it in the answer's
/// <c>X-Served-By</c> header and counts it in <c>similarity.database.answers{role}</c>.
/// </summary>
public sealed class ServedBy : IDisposable
{
    public const string Standby = "standby";
    public const string Primary = "primary";
    public const string HeaderName = "X-Served-By";

    static readonly AsyncLocal<Request?> Current = new();
    readonly ActivityListener? _listener;
    readonly Counter<long> _answers;

    public ServedBy(DatabaseHosts hosts, StandbyRotation rotation, IMeterFactory meters)
    {
        _answers = meters.Create(SimilarityMetrics.MeterName).CreateCounter<long>("similarity.database.answers", "{answer}",
            "Answers whose statements ran on the database, by the role of the host that ran them (several hosts only).");
        if (!hosts.HasStandbys)
            return;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => Current.Value is null ? ActivitySamplingResult.None : ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                // Npgsql leaves the port out when it is PostgreSQL's default.
                if (Current.Value is { } request && activity.GetTagItem("server.address") is string host
                    && rotation.RoleOf(host, activity.GetTagItem("server.port") as int? ?? 5432) is { } role)
                    request.Note(role);
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public bool Enabled => _listener is not null;

    /// <summary>Starts noting the roles for the request that runs in this async flow.</summary>
    internal Request Begin() => Current.Value = new Request();

    internal void Count(string role) => _answers.Add(1, new KeyValuePair<string, object?>("role", role));

    public void Dispose() => _listener?.Dispose();

    /// <summary>The roles one request's statements ran on.</summary>
    internal sealed class Request
    {
        volatile string? _role;

        public string? Role => _role;

        public void Note(string role)
        {
            if (_role != Primary)
                _role = role;
        }
    }
}
