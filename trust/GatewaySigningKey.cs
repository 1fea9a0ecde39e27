namespace Gateway.Trust;

/// <summary>
/// One HMAC key of a cluster: the id the gateway sends in <c>X-Gateway-Key-Id</c> and the secret. Bound from
/// configuration as <c>{ "id": "k2", "secret": "..." }</c>.
/// </summary>
public sealed class GatewaySigningKey
{
    /// <summary>1 to 64 characters of <c>[A-Za-z0-9._-]</c>, unique within one key list. Not secret.</summary>
    public string Id { get; set; } = "";

    /// <summary>The HMAC-SHA256 key (UTF-8), at least 32 bytes from a CSPRNG. See <see cref="GatewaySecrets"/>.</summary>
    public string Secret { get; set; } = "";

    public GatewaySigningKey() { }

    public GatewaySigningKey(string id, string secret)
    {
        Id = id;
        Secret = secret;
    }

    /// <summary>Whether <paramref name="id"/> can be a key id: it travels in a header and in the canonical string.</summary>
    public static bool IsValidId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 64) return false;
        foreach (char c in id)
            if (!char.IsAsciiLetterOrDigit(c) && c != '.' && c != '_' && c != '-') return false;
        return true;
    }
}
