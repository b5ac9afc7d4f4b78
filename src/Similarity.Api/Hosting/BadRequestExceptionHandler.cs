using Microsoft.AspNetCore.Diagnostics;

namespace Similarity.Hosting;

/// <summary>
/// Turns the framework's own bad-request exceptions (malformed form, body over Kestrel's limit) into a 4xx
/// ProblemDetails instead of the default 500: a client's mistake is never reported as the server's.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.Message),
            InvalidDataException invalid => (StatusCodes.Status400BadRequest, invalid.Message),
            _ => (0, ""),
        };
        if (status == 0)
            return false;

        context.Response.StatusCode = status;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = "The request could not be read.", Detail = title },
        });
    }
}
