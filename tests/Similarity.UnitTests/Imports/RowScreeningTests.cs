using Similarity.Catalog;
using Similarity.Imports;

namespace Similarity.UnitTests.Imports;

/// <summary>Which rows of a batch go on: the last row of a repeated SKU, and rows that pass PUT's validation.</summary>
public sealed class RowScreeningTests
{
    static CatalogRow Row(int number, string? sku, string? title, string? price = null, string? problem = null) =>
        new(number, number + 1, new ItemInput(sku, title, null, null, null, price, null, null, null),
            null, null, new Dictionary<string, string> { ["price"] = "Variant Price" }, problem, problem is null ? null : "Body");

    [Fact]
    public void A_repeated_sku_keeps_its_last_row_and_the_earlier_one_is_rejected_as_superseded()
    {
        CatalogRow[] rows = [Row(1, "mug", "Blue mug"), Row(2, "cup", "Cup"), Row(3, "mug", "Red mug")];
        var (count, lastRow) = RowScreening.Count(rows, maxRows: 10, () => new InvalidOperationException("too many"));
        var outcome = new BatchOutcome();

        var valid = RowScreening.Screen(rows, lastRow, outcome);

        Assert.Equal(3, count);
        Assert.Equal([2, 3], valid.Select(v => v.Row.Number));
        Assert.Equal("Red mug", valid[1].Fields.Title);
        Assert.Equal(1, outcome.Superseded);
        Assert.Equal("superseded by row 3", Assert.Single(outcome.Rejected).Reason);
    }

    [Fact]
    public void Counting_past_the_limit_throws_what_the_caller_made()
    {
        CatalogRow[] rows = [Row(1, "a", "A"), Row(2, "b", "B"), Row(3, "c", "C")];

        var thrown = Assert.Throws<InvalidOperationException>(() => RowScreening.Count(rows, maxRows: 2, () => new InvalidOperationException("too many")));

        Assert.Equal("too many", thrown.Message);
    }

    [Fact]
    public void An_invalid_row_is_rejected_naming_the_files_own_column_and_an_unreadable_one_keeps_its_reading_problem()
    {
        CatalogRow[] rows = [Row(1, "lamp", "Lamp", price: "x"), Row(2, "chair", "Chair", problem: "The row has 3 fields."), Row(3, "desk", "Desk")];
        var outcome = new BatchOutcome();

        var valid = RowScreening.Screen(rows, new Dictionary<string, int>(), outcome);

        Assert.Equal("desk", Assert.Single(valid).Sku);
        Assert.Equal(2, outcome.Rejected.Count);
        Assert.Equal("Variant Price", outcome.Rejected[0].Columns);
        Assert.Equal(("Body", "The row has 3 fields."), (outcome.Rejected[1].Columns, outcome.Rejected[1].Reason));
        Assert.Equal(0, outcome.Superseded);
    }
}
