using Similarity.Hosting;

namespace Similarity.UnitTests.Hosting;

public sealed class AdminKeyTests
{
    [Theory]
    [InlineData("a-long-enough-admin-key", "a-long-enough-admin-key", true)]
    [InlineData("a-long-enough-admin-key", "a-long-enough-admin-kez", false)]
    [InlineData("a-long-enough-admin-key", "", false)]
    [InlineData("", "", false)] // no key configured: nothing matches, not even an empty header
    public void Matches_only_the_configured_key(string configured, string given, bool expected) =>
        Assert.Equal(expected, AdminKey.Matches(configured, given));
}
