using System.Net;
using Similarity.Imports.Pictures;

namespace Similarity.UnitTests.Imports;

/// <summary>The address table: everything a server reaches but the internet does not is refused, in every spelling.</summary>
public sealed class AddressPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.9.9.9", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("10.0.0.1", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.254", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("fc00::1", "private")]
    [InlineData("fd12:3456::1", "private")]
    [InlineData("169.254.169.254", "link-local")] // cloud metadata
    [InlineData("fe80::1", "link-local")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("100.64.0.1", "carrier-grade")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("255.255.255.255", "reserved")]
    [InlineData("::ffff:127.0.0.1", "loopback")] // IPv4-mapped IPv6
    [InlineData("::ffff:10.1.2.3", "private")]
    [InlineData("::ffff:169.254.169.254", "link-local")]
    [InlineData("64:ff9b::a9fe:a9fe", "link-local")] // NAT64 of 169.254.169.254
    [InlineData("2002:c0a8:0101::1", "private")] // 6to4 of 192.168.1.1
    [InlineData("::10.0.0.1", "private")] // the deprecated IPv4-compatible form
    public void Internal_addresses_are_refused_naming_what_they_are(string address, string kind)
    {
        var refusal = AddressPolicy.Refusal(IPAddress.Parse(address), allowLoopback: false);
        Assert.NotNull(refusal);
        Assert.Contains(kind, refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")] // just outside 172.16/12
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void Public_addresses_pass(string address) =>
        Assert.Null(AddressPolicy.Refusal(IPAddress.Parse(address), allowLoopback: false));

    [Theory]
    [InlineData("127.0.0.1", null)]
    [InlineData("::1", null)]
    [InlineData("::ffff:127.0.0.1", null)]
    [InlineData("10.0.0.1", "private")]
    [InlineData("169.254.169.254", "link-local")]
    public void Allowing_loopback_allows_loopback_and_nothing_else(string address, string? refusedAs)
    {
        var refusal = AddressPolicy.Refusal(IPAddress.Parse(address), allowLoopback: true);
        if (refusedAs is null)
            Assert.Null(refusal);
        else
            Assert.Contains(refusedAs, refusal, StringComparison.Ordinal);
    }
}
