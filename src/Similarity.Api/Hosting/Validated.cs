namespace Similarity.Hosting;

/// <summary>
/// The outcome of validating what a client sent: the value to act on, or the errors naming each field at
/// fault (never both). Validators are declared next to the type they guard and return one of these.
/// </summary>
public sealed record Validated<T>(T? Value, Dictionary<string, string[]> Errors) where T : class
{
    public static Validated<T> Valid(T value) => new(value, []);

    public static Validated<T> Invalid(Dictionary<string, string[]> errors) => new(null, errors);

    /// <summary>Every error message in field order, as one line (an import row's rejection reason).</summary>
    public string Reason => string.Join(" ", Errors.Values.SelectMany(e => e));
}
