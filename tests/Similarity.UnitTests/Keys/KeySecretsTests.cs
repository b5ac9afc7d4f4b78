using System.Security.Cryptography;
using System.Text;
using Similarity.Keys;

namespace Similarity.UnitTests.Keys;

public sealed class KeySecretsTests
{
    [Fact]
    public void A_new_secret_is_the_prefix_and_256_random_bits_in_base64url()
    {
        var secrets = Enumerable.Range(0, 100).Select(_ => KeySecrets.NewSecret()).ToList();

        Assert.Equal(100, secrets.Distinct().Count());
        Assert.All(secrets, s =>
        {
            Assert.Matches("^sim_[A-Za-z0-9_-]{43}$", s);
            Assert.Equal(32, Convert.FromBase64String(s[4..].Replace('-', '+').Replace('_', '/') + "=").Length);
        });
    }

    [Fact]
    public void The_hash_is_the_sha256_of_the_utf8_secret_and_the_hint_its_first_eight_characters()
    {
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes("sim_abcdefgh")), KeySecrets.Hash("sim_abcdefgh"));
        Assert.Equal("sim_abcd…", KeySecrets.Hint("sim_abcdefgh"));
    }
}
