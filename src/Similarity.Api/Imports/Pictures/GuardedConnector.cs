using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Similarity.Imports.Pictures;

/// <summary>Names to addresses: the system's resolver in the service, a fixed table in tests.</summary>
public interface IHostResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

/// <summary>Opens the TCP connection to an address that has already passed <see cref="AddressPolicy"/>.</summary>
public interface ISocketConnector
{
    ValueTask<Stream> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken);
}

/// <summary>A picture's host resolved to an address the service must not reach; nothing was connected.</summary>
public sealed class RefusedAddressException(string host, string reason) : Exception($"{host}: {reason}")
{
    public string Reason { get; } = reason;
}

/// <summary>
/// <see cref="SocketsHttpHandler.ConnectCallback"/> for picture downloads: resolves the host itself, refuses the
/// connection if ANY of its addresses is refused, and connects only to the addresses it checked — so a name that
/// answers a public address to a first lookup and a private one to a second (DNS rebinding) cannot slip through,
/// and every redirect's new host is checked the same way when its connection opens.
/// </summary>
public sealed class GuardedConnector(IHostResolver resolver, ISocketConnector connector, IOptions<ImageFetchOptions> options)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await resolver.ResolveAsync(host, cancellationToken);
        if (addresses.Length == 0)
            throw new RefusedAddressException(host, "the name has no address");
        foreach (var address in addresses)
        {
            if (AddressPolicy.Refusal(address, options.Value.AllowLoopback) is { } reason)
                throw new RefusedAddressException(host, reason);
        }
        SocketException? last = null;
        foreach (var address in addresses)
        {
            try
            {
                return await connector.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
            }
            catch (SocketException ex)
            {
                last = ex;
            }
        }
        throw last!;
    }

    internal sealed class SystemResolver : IHostResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) => Dns.GetHostAddressesAsync(host, cancellationToken);
    }

    internal sealed class TcpConnector : ISocketConnector
    {
        public async ValueTask<Stream> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
        {
            var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(endpoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }
}
