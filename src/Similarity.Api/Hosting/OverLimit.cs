using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Similarity.Hosting;

/// <summary>
/// Work the service will not take now — a full queue, or a loop that has stopped — as opposed to a client's
/// mistake: a 503 ProblemDetails naming the limit, with <c>Retry-After</c> where waiting helps.
/// </summary>
public sealed class ServiceBusyException(string title, string detail, TimeSpan? retryAfter) : Exception(detail)
{
    public string Title { get; } = title;
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>The one shape of every "not now" answer (429 from the rate limits, 503 from a full queue).</summary>
public static class OverLimit
{
    public static async ValueTask WriteAsync(HttpContext context, int status, string title, string detail, TimeSpan? retryAfter, Exception? exception = null)
    {
        context.Response.StatusCode = status;
        if (retryAfter is { } wait)
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }
}

/// <summary>Answers a <see cref="ServiceBusyException"/> with its 503.</summary>
internal sealed class ServiceBusyExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not ServiceBusyException busy)
            return false;
        await OverLimit.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, busy.Title, busy.Message, busy.RetryAfter, busy);
        return true;
    }
}
