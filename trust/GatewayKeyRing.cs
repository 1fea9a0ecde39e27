namespace Gateway.Trust;

/// <summary>
/// The keys of one cluster. The gateway signs with <see cref="Active"/> (the first key); a verifier accepts a signature
/// by any key in the ring, found by the <c>X-Gateway-Key-Id</c> the request names. During a rotation the ring holds
/// the old and the new key; removing a key makes every signature by it invalid.
/// </summary>
public sealed class GatewayKeyRing
{
    private readonly GatewaySignature[] _keys;

    /// <exception cref="ArgumentException">No key, a malformed or duplicate id, or a secret shorter than 32 bytes.</exception>
    public GatewayKeyRing(IEnumerable<GatewaySigningKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = new List<GatewaySignature>();
        foreach (var key in keys)
        {
            if (list.Exists(k => string.Equals(k.KeyId, key.Id, StringComparison.Ordinal)))
                throw new ArgumentException($"The signing key id '{key.Id}' is configured twice.", nameof(keys));
            list.Add(new GatewaySignature(key.Id, key.Secret));
        }
        if (list.Count == 0) throw new ArgumentException("At least one signing key is required.", nameof(keys));
        _keys = [.. list];
    }

    /// <summary>The key new signatures are made with: the first one configured.</summary>
    public GatewaySignature Active => _keys[0];

    public int Count => _keys.Length;

    /// <summary>The key named <paramref name="keyId"/>, or null when this ring does not hold it.</summary>
    public GatewaySignature? Find(ReadOnlySpan<char> keyId)
    {
        foreach (var key in _keys)
            if (keyId.SequenceEqual(key.KeyId)) return key;
        return null;
    }
}
