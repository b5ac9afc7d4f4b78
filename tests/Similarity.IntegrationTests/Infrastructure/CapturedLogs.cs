using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>Every log entry the hosted service writes, with its exception and trace id, for tests that assert on them.</summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    public sealed record Entry(LogLevel Level, string Category, string Message, Exception? Exception, string? TraceId);

    public ConcurrentQueue<Entry> Entries { get; } = new();

    IExternalScopeProvider? _scopes;

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    /// <summary>The trace id the logging infrastructure put in scope for the current activity, if any.</summary>
    string? CurrentTraceId()
    {
        string? traceId = null;
        _scopes?.ForEachScope((scope, _) =>
        {
            if (scope is IEnumerable<KeyValuePair<string, object?>> values && values.FirstOrDefault(v => v.Key == "TraceId").Value is { } id)
                traceId = id.ToString();
        }, (object?)null);
        return traceId;
    }

    /// <summary>Every message and exception message (inner ones too) logged at warning or above.</summary>
    public string Problems => string.Join("\n", Entries.Where(e => e.Level >= LogLevel.Warning)
        .SelectMany(e => new[] { e.Message }.Concat(Chain(e.Exception).Select(x => x.Message))));

    static IEnumerable<Exception> Chain(Exception? exception)
    {
        for (var x = exception; x is not null; x = x.InnerException)
            yield return x;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.Entries.Enqueue(new Entry(logLevel, category, formatter(state, exception), exception, logs.CurrentTraceId()));
    }
}
