using System.Text.RegularExpressions;
using Similarity.Hosting;

namespace Similarity.UnitTests.Hosting;

public class IdentifiersTests
{
    static string Migration(string name)
    {
        var assembly = typeof(Identifiers).Assembly;
        using var stream = assembly.GetManifestResourceStream($"Migrations.{name}.sql")!;
        return new StreamReader(stream).ReadToEnd();
    }

    [Theory]
    [InlineData("0002_catalog", "sku")]
    [InlineData("0009_model_sets", "name")]
    public void The_database_checks_the_same_characters_as_the_service(string migration, string column) =>
        Assert.Contains($"CHECK ({column} ~ '^{Identifiers.Pattern}$')", Migration(migration), StringComparison.Ordinal);

    [Theory]
    [InlineData("a", true)]
    [InlineData("AB-12_x.y", true)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("é", false)]
    public void The_schema_pattern_takes_what_a_sku_may_be(string value, bool valid)
    {
        Assert.Equal(valid, Regex.IsMatch(value, Identifiers.SchemaPattern));
        Assert.Equal(valid, Similarity.Catalog.Sku.IsValid(value));
    }

    [Fact]
    public void Sixty_four_characters_are_a_sku_and_sixty_five_are_not()
    {
        Assert.Matches(Identifiers.SchemaPattern, new string('a', 64));
        Assert.DoesNotMatch(Identifiers.SchemaPattern, new string('a', 65));
        Assert.Matches(Identifiers.SchemaListPattern, string.Join(',', Enumerable.Repeat("a", 100)));
        Assert.DoesNotMatch(Identifiers.SchemaListPattern, string.Join(',', Enumerable.Repeat("a", 101)));
    }
}
