using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>
/// The service behind real Kestrel on a loopback port, for what the in-memory test server cannot show: the
/// bytes a request really puts on the wire, the server's own headers, a real browser.
/// </summary>
public class KestrelApp : SimilarityApp
{
    public KestrelApp() => UseKestrel(0);

    /// <summary>Where the server listens, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Address
    {
        get
        {
            StartServer();
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        }
    }
}
