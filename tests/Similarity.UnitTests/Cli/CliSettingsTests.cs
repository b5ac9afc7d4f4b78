using Similarity.Cli;

namespace Similarity.UnitTests.Cli;

public sealed class CliSettingsTests
{
    [Theory]
    [InlineData(null, null, "http://127.0.0.1:8080/")]
    [InlineData(null, "http://127.0.0.1:5123", "http://127.0.0.1:5123/")]
    [InlineData(null, "http://+:9000;https://+:9443", "http://127.0.0.1:9000/")]
    [InlineData(null, "http://*:9000", "http://127.0.0.1:9000/")]
    [InlineData(null, "http://0.0.0.0:9000", "http://127.0.0.1:9000/")]
    [InlineData(null, "http://[::]:9000", "http://[::1]:9000/")]
    [InlineData(null, "unix:/tmp/s.sock;http://localhost:7000", "http://localhost:7000/")]
    [InlineData("http://10.0.0.1:1", "http://127.0.0.1:5123", "http://10.0.0.1:1/")]
    public void The_service_url_is_the_option_else_the_services_own_setting_else_the_default(string? option, string? urls, string expected) =>
        Assert.Equal(expected, CliSettings.ServiceUrl(option, urls).ToString());

    [Theory]
    [InlineData("ftp://example/")]
    [InlineData("not a url")]
    public void An_address_that_is_not_http_is_refused_by_name(string option)
    {
        var error = Assert.Throws<FormatException>(() => CliSettings.ServiceUrl(option, null));
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_key_comes_from_the_option_then_the_environment_then_the_key_file()
    {
        var keyFile = Path.GetTempFileName();
        try
        {
            File.WriteAllText(keyFile, "from-the-file\n");
            var both = Environment(("SIMILARITY_ADMIN_API_KEY", "cli-variable"), ("Similarity__AdminApiKey", "service-setting"));
            Assert.Equal("from-the-option", CliSettings.AdminKey("from-the-option", both, keyFile));
            Assert.Equal("cli-variable", CliSettings.AdminKey(null, both, keyFile));
            Assert.Equal("service-setting", CliSettings.AdminKey(null, Environment(("Similarity__AdminApiKey", "service-setting")), keyFile));
            Assert.Equal("from-the-file", CliSettings.AdminKey(null, Environment(), keyFile));
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    [Fact]
    public void Without_any_key_there_is_none_and_no_key_file_is_made()
    {
        var keyFile = Path.Combine(Path.GetTempPath(), $"no-key-{Guid.NewGuid():N}");
        Assert.Null(CliSettings.AdminKey(null, Environment(("SIMILARITY_ADMIN_API_KEY", "  ")), keyFile));
        Assert.False(File.Exists(keyFile));
    }

    static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;
}
