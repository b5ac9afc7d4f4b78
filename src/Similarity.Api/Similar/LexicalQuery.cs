using System.Text.RegularExpressions;

namespace Similarity.Similar;

/// <summary>A query word the catalog's vocabulary lacks, and the nearest catalog word searched instead.</summary>
public sealed record TypoCorrection(string Word, string Correction);

/// <summary>A word of a text query as the vocabulary read it (lower case, unaccented), and its correction when it has one.</summary>
public sealed record LexicalWord(string Word, bool Known, string? Correction);

/// <summary>
/// The words a text query searches the lexical index for (its own, or their corrections) and the corrections made.
/// Pure: the words come from the database's tokeniser, so the query and the index split text alike.
/// </summary>
public sealed record LexicalQuery(IReadOnlyList<string> Words, IReadOnlyList<TypoCorrection> Corrections)
{
    public static LexicalQuery From(IEnumerable<LexicalWord> words)
    {
        var list = words.ToList();
        return new([.. list.Select(w => w.Correction ?? w.Word).Distinct(StringComparer.Ordinal)],
            [.. list.Where(w => w.Correction is not null).Select(w => new TypoCorrection(w.Word, w.Correction!))]);
    }

    /// <summary>Words at least this long also match the catalog words they begin ("flag" finds "flags"), as a search box's typing does.</summary>
    public const int PrefixLength = 4;

    /// <summary>Each word as a tsquery literal, so no character of it is read as an operator; a prefix match from <see cref="PrefixLength"/> letters.</summary>
    public IReadOnlyList<string> Literals => [.. Words.Select(w => Literal(w) + (w.Length >= PrefixLength ? ":*" : ""))];

    public static string Literal(string word) => "'" + word.Replace("\\", @"\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>The text with its corrections made (whole words, whatever their case), for the vector side to embed.</summary>
    public string Corrected(string text) => Corrections.Aggregate(text, (current, c) =>
        Regex.Replace(current, $@"\b{Regex.Escape(c.Word)}\b", c.Correction.Replace("$", "$$", StringComparison.Ordinal),
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));
}
