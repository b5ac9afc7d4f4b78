namespace Similarity.Hosting;

/// <summary>Why a client's input is refused; <see cref="ClientErrorExceptionHandler"/> turns each into its status.</summary>
public enum InputRejection
{
    /// <summary>400: the value is not valid.</summary>
    Invalid,
    /// <summary>413: over a size or pixel limit.</summary>
    OverLimit,
    /// <summary>415: not a kind of input the route takes.</summary>
    UnsupportedType,
    /// <summary>422: well-formed, but nothing the service can store (a vector without direction).</summary>
    Unprocessable,
}

/// <summary>A client's input the service will not process; it becomes a 4xx ProblemDetails naming the field.</summary>
public sealed class InputRejectedException(string field, string message, InputRejection reason = InputRejection.Invalid)
    : Exception(message)
{
    public string Field { get; } = field;
    public InputRejection Reason { get; } = reason;
}
