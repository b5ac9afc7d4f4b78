using Microsoft.Extensions.Options;

namespace Similarity.Hosting;

/// <summary>Settings under <c>Similarity</c> that guard the write endpoints.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Similarity";

    /// <summary>The key write endpoints require in <c>X-Api-Key</c>. Empty means every write is refused (401).</summary>
    public string AdminApiKey { get; set; } = "";

    internal sealed class Validator : IValidateOptions<SecurityOptions>
    {
        public ValidateOptionsResult Validate(string? name, SecurityOptions options) =>
            options.AdminApiKey.Length is > 0 and < 16
                ? ValidateOptionsResult.Fail("Similarity:AdminApiKey must be at least 16 characters (or empty to refuse all writes).")
                : ValidateOptionsResult.Success;
    }
}
