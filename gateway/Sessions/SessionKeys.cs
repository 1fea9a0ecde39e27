namespace Gateway.Sessions;

/// <summary>Redis keys and channels of docs/contracts.md (wire format v1).</summary>
public static class SessionKeys
{
    public const string InvalidationChannel = "gw:v1:invalidate";
    public static string Session(string tokenHashHex) => "gw:v1:session:{" + tokenHashHex + "}";
}
