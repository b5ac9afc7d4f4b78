using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Similarity.Hosting;

/// <summary>
/// One readable line per event for a person at a terminal: time, level, category, the message with its line breaks
/// folded, and the trace id while a request is in flight (the one its ProblemDetails carries). Hand-written because
/// the built-in simple formatter either drops the trace id or prints every scope (connection, request, span, parent).
/// </summary>
internal sealed class LineConsoleFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "line";

    static readonly bool Colour = !Console.IsOutputRedirected;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
            return;
        textWriter.Write(DateTimeOffset.Now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture));
        textWriter.Write(' ');
        textWriter.Write(Level(logEntry.LogLevel));
        textWriter.Write(' ');
        textWriter.Write(logEntry.Category);
        textWriter.Write(": ");
        textWriter.Write(Folded(message));
        if (Activity.Current is { } activity)
            textWriter.Write($" [trace {activity.TraceId.ToHexString()}]");
        if (logEntry.Exception is { } exception)
        {
            textWriter.Write(" — ");
            // An error's stack trace is what a person needs next; lesser levels keep to one line.
            textWriter.Write(logEntry.LogLevel >= LogLevel.Error ? exception.ToString() : Folded($"{exception.GetType().Name}: {exception.Message}"));
        }
        textWriter.WriteLine();
    }

    static string Level(LogLevel level)
    {
        var (label, colour) = level switch
        {
            LogLevel.Trace => ("trce", "\x1b[90m"),
            LogLevel.Debug => ("dbug", "\x1b[90m"),
            LogLevel.Information => ("info", "\x1b[32m"),
            LogLevel.Warning => ("warn", "\x1b[33m"),
            LogLevel.Error => ("fail", "\x1b[31m"),
            _ => ("crit", "\x1b[1;31m"),
        };
        return Colour ? $"{colour}{label}\x1b[0m" : label;
    }

    internal static string Folded(string text) => string.Join(", ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
