using Similarity.Bench;

namespace Similarity.UnitTests.Bench;

public sealed class BenchArgsTests
{
    [Fact]
    public void Options_take_the_value_after_them_and_a_flag_takes_none()
    {
        var args = BenchArgs.Parse(["--items", "500", "--memory", "--seconds", "3"]);

        Assert.Equal(500, args.GetInt("items", 100_000));
        Assert.Equal(3, args.GetInt("seconds", 10));
        Assert.True(args.Has("memory"));
        Assert.Equal(7, args.GetInt("rounds", 7));
    }

    [Fact]
    public void A_benchmark_refuses_an_option_it_does_not_take_by_name()
    {
        var error = Assert.Throws<ArgumentException>(() => BenchArgs.Parse(["--items", "5", "--frobnicate", "3"], "similar", "items", "seconds"));
        Assert.Equal("bench similar: unknown option --frobnicate", error.Message);
    }

    [Fact]
    public void A_stray_word_is_an_unknown_option_too()
    {
        var error = Assert.Throws<ArgumentException>(() => BenchArgs.Parse(["fast"], "quality"));
        Assert.Equal("bench quality: unknown option fast", error.Message);
    }

    [Fact]
    public void A_required_option_that_is_missing_is_named() =>
        Assert.Equal("--out is required.", Assert.Throws<ArgumentException>(() => BenchArgs.Parse([]).Get("out")).Message);

    [Fact]
    public void Pairs_made_in_code_are_written_with_the_invariant_culture() =>
        Assert.Equal("0.5", BenchArgs.Of(("move", 0.5)).Get("move"));
}
