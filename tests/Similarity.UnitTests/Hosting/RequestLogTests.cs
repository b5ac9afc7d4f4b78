using Microsoft.AspNetCore.Http;
using Similarity.Hosting;

namespace Similarity.UnitTests.Hosting;

public sealed class RequestLogTests
{
    [Theory]
    [InlineData("GET", "/health/live", true)]
    [InlineData("GET", "/health/ready", true)]
    [InlineData("GET", "/imports/7f1c1d52-3c57-4a1e-9c41-1f0f4e8f5d10", true)]
    [InlineData("GET", "/imports", false)]
    [InlineData("POST", "/imports", false)]
    [InlineData("GET", "/imports/7f1c1d52-3c57-4a1e-9c41-1f0f4e8f5d10/errors", false)]
    [InlineData("DELETE", "/imports/7f1c1d52-3c57-4a1e-9c41-1f0f4e8f5d10", false)]
    [InlineData("GET", "/similar/mug-1", false)]
    public void Polling_requests_are_the_health_probes_and_an_imports_status(string method, string path, bool polling) =>
        Assert.Equal(polling, RequestLog.IsPolling(method, new PathString(path)));
}
