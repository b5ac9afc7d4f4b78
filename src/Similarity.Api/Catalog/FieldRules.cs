using System.Globalization;
using System.Text.Json;

namespace Similarity.Catalog;

/// <summary>
/// What a value must be for PostgreSQL to store it, so that bad input is a 400 naming the field instead of a
/// database error: text holds no NUL (PostgreSQL's text cannot) and no lone UTF-16 surrogate (UTF-8 cannot
/// encode one), jsonb holds neither as an escape (prices: see Money).
/// Each rule answers with the problem in words, or null.
/// </summary>
public static class FieldRules
{
    /// <summary>Longest number accepted in attributes; with the exponent bound, jsonb's numeric always holds it.</summary>
    const int MaxNumberCharacters = 40, MaxNumberExponent = 308;

    public static string? TextProblem(string field, string? value, int maxLength)
    {
        if (value is null)
            return null;
        if (value.Length > maxLength)
            return $"The {field} is longer than {maxLength} characters.";
        if (value.Contains('\0', StringComparison.Ordinal))
            return $"The {field} contains a NUL character, which cannot be stored.";
        if (HasLoneSurrogate(value))
            return $"The {field} contains a lone UTF-16 surrogate (not valid Unicode), which cannot be stored.";
        return null;
    }

    /// <summary>Problems of a JSON value for a jsonb column: NUL or lone surrogates in any name or string, numbers jsonb cannot hold.</summary>
    public static string? JsonProblem(string field, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if ((StringProblem(field, () => property.Name) ?? JsonProblem(field, property.Value)) is { } problem)
                        return problem;
                }
                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (JsonProblem(field, item) is { } problem)
                        return problem;
                }
                return null;
            case JsonValueKind.String:
                return StringProblem(field, element.GetString);
            case JsonValueKind.Number:
                return IsStorableNumber(element) ? null
                    : $"The {field} hold a number jsonb cannot store: numbers must be finite doubles of at most {MaxNumberCharacters} characters.";
            default:
                return null;
        }
    }

    static string? StringProblem(string field, Func<string?> read)
    {
        try
        {
            return read()?.Contains('\0', StringComparison.Ordinal) == true
                ? $"The {field} contain a \\u0000 (NUL), which cannot be stored."
                : null;
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to unescape a lone surrogate such as "\ud800".
            return $"The {field} contain a lone surrogate escape (not valid Unicode), which cannot be stored.";
        }
    }

    static bool IsStorableNumber(JsonElement number)
    {
        var raw = number.GetRawText();
        if (raw.Length > MaxNumberCharacters)
            return false;
        var e = raw.AsSpan().IndexOfAny('e', 'E');
        if (e >= 0 && !(int.TryParse(raw.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exponent)
                        && Math.Abs(exponent) <= MaxNumberExponent))
            return false;
        return number.TryGetDouble(out var value) && double.IsFinite(value);
    }

    static bool HasLoneSurrogate(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (!char.IsSurrogate(text[i]))
                continue;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else
                return true;
        }
        return false;
    }

    /// <summary>Longest quote of a client's value in a message (a bad SKU, an unknown name).</summary>
    public const int QuoteLength = 100;

    /// <summary>A client's value as quoted in a message: storable and at most <see cref="QuoteLength"/> characters.</summary>
    public static string Quote(string text) => Storable(text, QuoteLength);

    /// <summary>
    /// The text with what PostgreSQL cannot store (NUL, lone surrogates) replaced by U+FFFD and cut to a length:
    /// for the service's own messages that quote what a client sent (a rejected row's SKU, an entry name).
    /// </summary>
    public static string Storable(string text, int maxLength = 1000)
    {
        var cut = text.Length > maxLength ? text[..maxLength] + "…" : text;
        if (!cut.Contains('\0', StringComparison.Ordinal) && !HasLoneSurrogate(cut))
            return cut;
        var chars = cut.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] == '\0')
                chars[i] = '\uFFFD';
            else if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
                i++;
            else if (char.IsSurrogate(chars[i]))
                chars[i] = '\uFFFD';
        }
        return new string(chars);
    }
}
