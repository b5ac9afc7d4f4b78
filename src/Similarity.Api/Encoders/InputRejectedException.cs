namespace Similarity.Encoders;

/// <summary>A client's input the service will not process; it becomes a 4xx ProblemDetails naming the field.</summary>
public sealed class InputRejectedException(string field, string message, int statusCode = StatusCodes.Status400BadRequest)
    : Exception(message)
{
    public string Field { get; } = field;
    public int StatusCode { get; } = statusCode;
}
