using System.Text.RegularExpressions;

namespace Similarity.Cli;

/// <summary>Where the service is and which admin key to send: from the options, then the environment, then the checkout.</summary>
public static partial class CliSettings
{
    /// <summary>Where <c>./similarity.sh run</c> serves when <c>ASPNETCORE_URLS</c> is not set.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>How a person runs the import: the name its hints and help give it (the README's).</summary>
    public const string ImportName = "./similarity.sh import";

    /// <summary>How a person runs a model set's deploy: the name its hints and help give it (the README's).</summary>
    public const string ModelsName = "./similarity.sh models";

    // A server binds to every interface with these hosts; a client reaches it on loopback.
    [GeneratedRegex(@"^(?<scheme>https?://)(?<host>\+|\*|0\.0\.0\.0|\[::\])(?<rest>[:/].*|)$", RegexOptions.IgnoreCase)]
    private static partial Regex WildcardHost();

    /// <summary>
    /// <paramref name="option"/> when given, else the first http(s) address of <paramref name="aspnetcoreUrls"/> (the
    /// service's own setting, so the CLI follows the service wherever <c>run</c> put it), else <see cref="DefaultUrl"/>.
    /// </summary>
    /// <exception cref="FormatException">The address is not an absolute http(s) URL.</exception>
    public static Uri ServiceUrl(string? option, string? aspnetcoreUrls)
    {
        var chosen = option;
        if (string.IsNullOrWhiteSpace(chosen))
        {
            chosen = (aspnetcoreUrls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .FirstOrDefault(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || u.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                ?? DefaultUrl;
            if (WildcardHost().Match(chosen) is { Success: true } wildcard)
                chosen = wildcard.Groups["scheme"].Value + (wildcard.Groups["host"].Value == "[::]" ? "[::1]" : "127.0.0.1") + wildcard.Groups["rest"].Value;
        }
        if (!Uri.TryCreate(chosen.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new FormatException($"'{chosen}' is not an http(s) address like {DefaultUrl}.");
        return url;
    }

    /// <summary>
    /// The admin key: <paramref name="option"/>, then <c>SIMILARITY_ADMIN_API_KEY</c>, then <c>Similarity__AdminApiKey</c>
    /// (the service's own setting), then the key file <c>./similarity.sh run</c> wrote. Null when none has one: a CLI
    /// that made up a key would only earn a 401.
    /// </summary>
    public static string? AdminKey(string? option, Func<string, string?> environment, string? keyFile)
    {
        foreach (var candidate in new[] { option, environment("SIMILARITY_ADMIN_API_KEY"), environment("Similarity__AdminApiKey") })
        {
            if (!string.IsNullOrWhiteSpace(candidate))
                return candidate.Trim();
        }
        return keyFile is not null && File.Exists(keyFile) && File.ReadAllText(keyFile).Trim() is { Length: > 0 } stored ? stored : null;
    }
}
