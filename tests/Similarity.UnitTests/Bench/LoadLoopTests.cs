using System.Net;
using System.Net.Sockets;
using Similarity.Bench;

namespace Similarity.UnitTests.Bench;

public sealed class LoadLoopTests
{
    [Fact]
    public async Task Only_a_loopback_address_is_loaded() =>
        await Assert.ThrowsAsync<ArgumentException>(() =>
            LoadLoop.RunAsync(new Uri("http://192.0.2.1/"), LoadLoop.Get(_ => "/"), connections: 1, TimeSpan.FromSeconds(1)));

    [Fact]
    public async Task The_loop_stops_at_its_request_bound_and_counts_refused_connections()
    {
        // A port just freed: every request is refused at once, and counted as status 0.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await LoadLoop.RunAsync(new Uri($"http://127.0.0.1:{port}/"), LoadLoop.Get(_ => "/"), connections: 2, TimeSpan.FromSeconds(30), maxRequests: 6);

        Assert.Equal(6, result.Requests);
        Assert.Equal(6, result.NotSuccessful);
        Assert.Equal("0: 6", result.StatusList);
        Assert.True(result.Seconds < 30);
    }
}
