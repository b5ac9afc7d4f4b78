using System.Diagnostics;

namespace Similarity.Hosting;

/// <summary>
/// One compact line per request — method, path, status, duration — at Information, and at Debug for the requests
/// that pollers repeat (<c>/health/*</c> and <c>GET /imports/{id}</c>), so a busy service's log stays readable.
/// It sits outermost, so the status it logs is the one the client got, even after the exception handler answered.
/// The query string stays out: it may carry a shopper's search text.
/// </summary>
public static partial class RequestLog
{
    /// <summary>The log category, for configuration (<c>Logging:LogLevel:Similarity.Requests</c>).</summary>
    public const string Category = "Similarity.Requests";

    public static WebApplication UseRequestLog(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
        app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                var request = context.Request;
                var level = IsPolling(request.Method, request.Path) ? LogLevel.Debug : LogLevel.Information;
                if (logger.IsEnabled(level))
                {
                    Log(logger, level, request.Method, $"{request.PathBase}{request.Path}", context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        });
        return app;
    }

    /// <summary>Health probes and an import's status, which load balancers and pages ask for every few seconds.</summary>
    internal static bool IsPolling(string method, PathString path)
    {
        if (path.StartsWithSegments("/health"))
            return true;
        if (!HttpMethods.IsGet(method) || !path.StartsWithSegments("/imports", out var rest))
            return false;
        var segments = rest.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return segments.Length == 1;
    }

    [LoggerMessage(Message = "{Method} {Path} {Status} in {DurationMilliseconds:F0} ms")]
    static partial void Log(ILogger logger, LogLevel level, string method, string path, int status, double durationMilliseconds);
}
