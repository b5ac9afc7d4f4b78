using Microsoft.Extensions.Options;

namespace Similarity.Hosting;

/// <summary>Settings under <c>Similarity</c> that guard the admin routes.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Similarity";

    /// <summary>
    /// The bootstrap admin key, accepted in <c>X-Api-Key</c> beside the keys created with <c>POST /keys</c>. Empty means
    /// only created keys are accepted (and, before any was created, every admin route is refused: 401).
    /// </summary>
    public string AdminApiKey { get; set; } = "";

    internal sealed class Validator : IValidateOptions<SecurityOptions>
    {
        public ValidateOptionsResult Validate(string? name, SecurityOptions options) =>
            options.AdminApiKey.Length is > 0 and < 16
                ? ValidateOptionsResult.Fail("Similarity:AdminApiKey must be at least 16 characters (or empty to refuse all writes).")
                : ValidateOptionsResult.Success;
    }
}
