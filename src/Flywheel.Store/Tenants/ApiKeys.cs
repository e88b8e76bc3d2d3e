using System.Security.Cryptography;
using System.Text;

namespace Flywheel.Store.Tenants;

/// <summary>
/// Key format: <c>fw_&lt;12 id chars&gt;_&lt;43 secret chars&gt;</c>. The id part is public (listed, used to revoke); the
/// secret part is 32 random bytes (256 bits) in base64url. Because the key has that much entropy, a plain SHA-256
/// is enough to store it: there is nothing to brute-force, so a slow password hash would only slow every request.
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "fw_";
    private const int IdChars = 12;
    private const string IdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>A fresh key: (key id, plaintext key).</summary>
    public static (string KeyId, string Key) Generate()
    {
        var id = new char[IdChars];
        for (int i = 0; i < IdChars; i++)
        {
            id[i] = IdAlphabet[RandomNumberGenerator.GetInt32(IdAlphabet.Length)];
        }
        string keyId = Prefix + new string(id);
        string secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (keyId, keyId + "_" + secret);
    }

    /// <summary>Lower-case hex SHA-256 of the UTF-8 key: what the store keeps.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>True when <paramref name="key"/> has the shape of a Flywheel key (cheap check before a lookup).</summary>
    public static bool LooksLikeKey(string? key) =>
        key is { Length: > 3 + IdChars + 1 } && key.StartsWith(Prefix, StringComparison.Ordinal) && key[Prefix.Length + IdChars] == '_';
}
