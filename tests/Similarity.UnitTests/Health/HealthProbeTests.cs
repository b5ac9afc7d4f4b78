using Similarity.Health;

namespace Similarity.UnitTests.Health;

public sealed class HealthProbeTests
{
    [Theory]
    [InlineData(null, null, "http://127.0.0.1:8080/")]                                   // nothing set: the .NET images' port
    [InlineData(null, "8081", "http://127.0.0.1:8081/")]                                 // the .NET images' ASPNETCORE_HTTP_PORTS
    [InlineData("http://127.0.0.1:18480", "8080", "http://127.0.0.1:18480/")]            // ASPNETCORE_URLS wins, as in Kestrel
    [InlineData("http://+:9000;http://localhost:9001", null, "http://127.0.0.1:9000/")]  // the first of several; a wildcard on loopback
    [InlineData("http://0.0.0.0:7000/", null, "http://127.0.0.1:7000/")]
    [InlineData("http://[::]:7001", null, "http://127.0.0.1:7001/")]
    public void The_probe_asks_where_the_service_listens_on_loopback(string? urls, string? httpPorts, string expected) =>
        Assert.Equal(new Uri(expected), HealthProbe.Address(urls, httpPorts));
}
