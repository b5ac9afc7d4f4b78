namespace Similarity.Hosting;

/// <summary>
/// What a SKU and a model set's name may be. The database's CHECKs (migrations 0002 and 0009) spell the same class;
/// a unit test holds them together.
/// </summary>
public static class Identifiers
{
    /// <summary>A regular expression without anchors: 1–64 letters, digits, '.', '_' and '-'.</summary>
    public const string Pattern = "[A-Za-z0-9._-]{1,64}";

    /// <summary>The same, anchored, for JSON Schema (ECMA-262, whose $ matches only at the end).</summary>
    public const string SchemaPattern = "^" + Pattern + "$";

    /// <summary>Up to 100 of them, comma-separated, for JSON Schema.</summary>
    public const string SchemaListPattern = "^" + Pattern + "(," + Pattern + "){0,99}$";
}
