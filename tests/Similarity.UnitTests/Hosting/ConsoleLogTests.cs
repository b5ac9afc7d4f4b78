using Similarity.Hosting;

namespace Similarity.UnitTests.Hosting;

public sealed class ConsoleLogTests
{
    [Theory]
    [InlineData(null, true, "line")]
    [InlineData(null, false, "json")]
    [InlineData("", false, "json")]
    [InlineData("json", true, "json")]
    [InlineData("simple", false, "simple")]
    public void A_terminal_gets_one_readable_line_per_event_and_anything_else_json_unless_set(string? configured, bool terminal, string expected) =>
        Assert.Equal(expected, Observability.ConsoleFormat(configured, terminal));

    [Fact]
    public void A_message_over_several_lines_is_folded_into_one() =>
        Assert.Equal("Request and Response:, Method: GET, Path: /x", LineConsoleFormatter.Folded("Request and Response:\r\nMethod: GET\n  Path: /x\n"));
}
