using Microsoft.Extensions.Logging;

namespace Similarity.UnitTests.Infrastructure;

/// <summary>Keeps what was logged; or, with <c>throws</c>, fails every log call as a broken log sink would.</summary>
public sealed class ListLogger(bool throws = false) : ILogger
{
    readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
                return [.. _entries];
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (throws)
            throw new IOException("The log sink is gone.");
        lock (_entries)
            _entries.Add((logLevel, formatter(state, exception)));
    }
}
