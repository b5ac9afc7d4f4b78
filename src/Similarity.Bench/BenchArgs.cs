using System.Globalization;

namespace Similarity.Bench;

/// <summary>
/// <c>--key value</c> pairs and bare <c>--flag</c>s, nothing cleverer. With <see cref="Parse(string[], string, string[])"/>
/// an option not in the benchmark's list is refused by name, as the script's benchmarks always did.
/// </summary>
public sealed class BenchArgs(Dictionary<string, string> values)
{
    readonly Dictionary<string, string> _values = values;

    /// <summary>Parses without checking names (the helper verbs).</summary>
    public static BenchArgs Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var key = args[i].TrimStart('-');
            // A flag is an option followed by another option or by nothing.
            if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                values[key] = args[++i];
            else
                values[key] = "";
        }
        return new BenchArgs(values);
    }

    /// <summary>Parses the options of benchmark <paramref name="bench"/>; one it does not take is an <see cref="ArgumentException"/> naming it.</summary>
    public static BenchArgs Parse(string[] args, string bench, params string[] known)
    {
        var parsed = Parse(args);
        if (parsed._values.Keys.FirstOrDefault(k => !known.Contains(k, StringComparer.Ordinal)) is { } unknown)
            throw new ArgumentException($"bench {bench}: unknown option {(args.Contains(unknown) ? unknown : "--" + unknown)}");
        return parsed;
    }

    public bool Has(string key) => _values.ContainsKey(key);

    public string Get(string key, string? fallback = null) =>
        _values.TryGetValue(key, out var value) ? value : fallback ?? throw new ArgumentException($"--{key} is required.");

    public int GetInt(string key, int fallback) => _values.TryGetValue(key, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The pairs, as a helper verb's arguments (for a benchmark that calls one in-process).</summary>
    public static BenchArgs Of(params (string Key, object Value)[] pairs) =>
        new(pairs.ToDictionary(p => p.Key, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture)!, StringComparer.Ordinal));
}
