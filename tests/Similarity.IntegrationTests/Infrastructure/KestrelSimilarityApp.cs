using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>
/// The service on real Kestrel at a free loopback port, for clients that cannot use the in-memory test server:
/// a browser, the import CLI, another process.
/// </summary>
public class KestrelSimilarityApp : SimilarityApp
{
    public KestrelSimilarityApp() => UseKestrel(port: 0);

    /// <summary>Where the service listens, e.g. http://127.0.0.1:40123.</summary>
    public Uri Address
    {
        get
        {
            StartServer();
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(address.Replace("://localhost:", "://127.0.0.1:", StringComparison.Ordinal));
        }
    }
}
