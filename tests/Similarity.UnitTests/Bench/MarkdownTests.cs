using Similarity.Bench;

namespace Similarity.UnitTests.Bench;

public sealed class MarkdownTests
{
    [Fact]
    public void A_table_has_its_header_an_alignment_row_and_one_line_per_row()
    {
        var table = new Markdown("measure", "value", "target") { TextColumns = [0, 2] }.Add("recall@10", "0.99", "≥ 0.99").Add("p99", "3.1 ms", "");

        Assert.Equal("""
            | measure | value | target |
            |---|---:|---|
            | recall@10 | 0.99 | ≥ 0.99 |
            | p99 | 3.1 ms |  |

            """.ReplaceLineEndings("\n"), table.ToString());
    }

    [Fact]
    public void A_row_of_the_wrong_width_is_refused() =>
        Assert.Throws<ArgumentException>(() => new Markdown("a", "b").Add("only one"));
}
