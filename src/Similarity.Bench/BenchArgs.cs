namespace Similarity.Bench;

/// <summary>--key value pairs, nothing cleverer.</summary>
public sealed class BenchArgs(Dictionary<string, string> values)
{
    public static BenchArgs Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
            values[args[i].TrimStart('-')] = args[i + 1];
        return new BenchArgs(values);
    }

    public string Get(string key, string? fallback = null) =>
        values.TryGetValue(key, out var value) ? value : fallback ?? throw new ArgumentException($"--{key} is required.");

    public int GetInt(string key, int fallback) => values.TryGetValue(key, out var value) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
