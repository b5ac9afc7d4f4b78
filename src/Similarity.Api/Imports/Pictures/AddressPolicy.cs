using System.Net;

namespace Similarity.Imports.Pictures;

/// <summary>
/// Which addresses a catalog's picture URL may reach: public unicast only. Everything a server can reach but the
/// internet cannot — loopback, private networks, link-local (cloud metadata at 169.254.169.254), unique-local,
/// multicast, reserved — is refused, and so is an IPv6 address that embeds such an IPv4 one (IPv4-mapped,
/// IPv4-compatible, NAT64, 6to4), so no spelling of an address slips through.
/// </summary>
public static class AddressPolicy
{
    static readonly (IPNetwork Network, string Name)[] Refused =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "an unspecified address"),
        (IPNetwork.Parse("10.0.0.0/8"), "a private address"),
        (IPNetwork.Parse("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address"),
        (IPNetwork.Parse("172.16.0.0/12"), "a private address"),
        (IPNetwork.Parse("192.0.0.0/24"), "a reserved address"),
        (IPNetwork.Parse("192.0.2.0/24"), "a documentation address"),
        (IPNetwork.Parse("192.168.0.0/16"), "a private address"),
        (IPNetwork.Parse("198.18.0.0/15"), "a benchmarking address"),
        (IPNetwork.Parse("198.51.100.0/24"), "a documentation address"),
        (IPNetwork.Parse("203.0.113.0/24"), "a documentation address"),
        (IPNetwork.Parse("224.0.0.0/4"), "a multicast address"),
        (IPNetwork.Parse("240.0.0.0/4"), "a reserved address"),
        (IPNetwork.Parse("::/128"), "an unspecified address"),
        (IPNetwork.Parse("::1/128"), "a loopback address"),
        (IPNetwork.Parse("fc00::/7"), "a unique-local (private) address"),
        (IPNetwork.Parse("fe80::/10"), "a link-local address"),
        (IPNetwork.Parse("fec0::/10"), "a site-local address"),
        (IPNetwork.Parse("ff00::/8"), "a multicast address"),
        (IPNetwork.Parse("2001:db8::/32"), "a documentation address"),
    ];

    static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    static readonly IPNetwork Compatible = IPNetwork.Parse("::/96");

    /// <summary>Null when the address may be connected to; otherwise why not, e.g. "10.1.2.3 is a private address".</summary>
    public static string? Refusal(IPAddress address, bool allowLoopback)
    {
        var embedded = Embedded(address);
        if (embedded is not null)
            return Refusal(embedded, allowLoopback) is { } inner ? $"{address} embeds {inner}" : null;
        if (allowLoopback && IPAddress.IsLoopback(address))
            return null;
        foreach (var (network, name) in Refused)
        {
            if (network.Contains(address))
                return $"{address} is {name}";
        }
        return null;
    }

    /// <summary>The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, the deprecated compatible form), else null.</summary>
    static IPAddress? Embedded(IPAddress address)
    {
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            return null;
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4();
        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address))
            return new IPAddress(bytes[12..16]);
        if (SixToFour.Contains(address))
            return new IPAddress(bytes[2..6]);
        // ::a.b.c.d, but not :: and ::1 themselves (the table names those).
        if (Compatible.Contains(address) && bytes[12..16] is not [0, 0, 0, 0 or 1])
            return new IPAddress(bytes[12..16]);
        return null;
    }
}
