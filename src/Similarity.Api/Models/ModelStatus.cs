namespace Similarity.Models;

/// <summary>
/// The states a model set goes through (<c>model_sets.status</c>, and the <c>status</c> of <c>GET /models</c>): the one
/// name for each, in SQL parameters and JSON alike.
/// </summary>
public static class ModelStatus
{
    /// <summary>Its vectors are the items' own columns: every query, import and PUT uses it.</summary>
    public const string Live = "live";

    /// <summary>Deployed and checked, holding the standby columns, not embedding yet.</summary>
    public const string Candidate = "candidate";

    /// <summary>Its background job is embedding the catalog into the standby columns.</summary>
    public const string Embedding = "embedding";

    /// <summary>Every item embedded and its index built: activating it is a switch of column names.</summary>
    public const string Ready = "ready";

    /// <summary>Deleted: no vectors, no index, no files; listed for the record.</summary>
    public const string Retired = "retired";

    /// <summary>The statuses of the standby set, the one beside the live set.</summary>
    public static bool IsStandby(string status) => status is Candidate or Embedding or Ready;
}
