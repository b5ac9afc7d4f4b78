using System.Text;

namespace Similarity.Bench;

/// <summary>
/// A markdown table as the benchmarks print it: a header row, the alignment row (the first column left, the others
/// right unless <see cref="TextColumns"/> says otherwise) and one row per added line. Cells are written as given.
/// </summary>
public sealed class Markdown(params string[] header)
{
    readonly List<string[]> _rows = [];

    /// <summary>The columns (from 0) that hold text, left-aligned; the rest are figures, right-aligned.</summary>
    public IReadOnlyCollection<int> TextColumns { get; init; } = [0];

    public Markdown Add(params string[] cells)
    {
        if (cells.Length != header.Length)
            throw new ArgumentException($"A row of {cells.Length} cells in a table of {header.Length} columns.", nameof(cells));
        _rows.Add(cells);
        return this;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        Row(text, header);
        text.Append('|').AppendJoin('|', header.Select((_, i) => TextColumns.Contains(i) ? "---" : "---:")).Append("|\n");
        foreach (var row in _rows)
            Row(text, row);
        return text.ToString();
    }

    static void Row(StringBuilder text, string[] cells) => text.Append("| ").AppendJoin(" | ", cells).Append(" |\n");
}
