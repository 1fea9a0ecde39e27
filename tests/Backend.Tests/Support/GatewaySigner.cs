using System.Globalization;
using Gateway.Trust;

namespace Backend.Tests.Support;

/// <summary>Builds requests as the gateway would: signed with the backend cluster's key, v2 (docs/contracts.md).</summary>
public static class GatewaySigner
{
    public static HttpRequestMessage Signed(HttpMethod method, string pathAndQuery, Guid userId, Guid sessionId, long timestamp,
        string orgId = "", string orgRole = "", string clientIp = "203.0.113.1", GatewaySignature? key = null) =>
        Build(method, pathAndQuery, new SignedIdentity(userId.ToString(), sessionId.ToString(), orgId, orgRole), timestamp, clientIp, key);

    /// <summary>An anonymous request (e.g. <c>/auth/login</c>) that carries only the signed client address.</summary>
    public static HttpRequestMessage Anonymous(HttpMethod method, string pathAndQuery, long timestamp, string clientIp, GatewaySignature? key = null) =>
        Build(method, pathAndQuery, new SignedIdentity("", "", "", ""), timestamp, clientIp, key);

    /// <summary>The key the test backend accepts.</summary>
    public static GatewaySignature BackendKey => new(BackendApp.SigningKeyId, BackendApp.SigningSecret);

    private static HttpRequestMessage Build(HttpMethod method, string pathAndQuery, SignedIdentity identity, long timestamp, string clientIp, GatewaySignature? key)
    {
        key ??= BackendKey;
        int q = pathAndQuery.IndexOf('?');
        string path = q < 0 ? pathAndQuery : pathAndQuery[..q];
        string query = q < 0 ? "" : pathAndQuery[q..];
        string signature = key.Sign(method.Method, path, query, timestamp, clientIp, identity);
        var request = new HttpRequestMessage(method, pathAndQuery);
        if (identity.UserId.Length > 0)
        {
            request.Headers.Add(IdentityHeaders.UserId, identity.UserId);
            request.Headers.Add(IdentityHeaders.SessionId, identity.SessionId);
        }
        if (identity.OrgId.Length > 0) request.Headers.Add(IdentityHeaders.OrgId, identity.OrgId);
        if (identity.OrgRole.Length > 0) request.Headers.Add(IdentityHeaders.OrgRole, identity.OrgRole);
        request.Headers.Add(IdentityHeaders.ClientIp, clientIp);
        request.Headers.Add(IdentityHeaders.KeyId, key.KeyId);
        request.Headers.Add(IdentityHeaders.Timestamp, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(IdentityHeaders.Signature, signature);
        return request;
    }
}
