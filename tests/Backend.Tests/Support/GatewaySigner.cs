using System.Globalization;
using Gateway.Trust;

namespace Backend.Tests.Support;

/// <summary>Builds requests as the gateway would: signed identity headers.</summary>
public static class GatewaySigner
{
    public static HttpRequestMessage Signed(HttpMethod method, string path, Guid userId, Guid sessionId, long timestamp,
        string secret = BackendApp.Secret, string orgId = "", string orgRole = "")
    {
        var identity = new SignedIdentity(userId.ToString(), sessionId.ToString(), orgId, orgRole);
        string signature = new GatewaySignature(secret).Sign(method.Method, path, timestamp, identity);
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add(IdentityHeaders.UserId, identity.UserId);
        request.Headers.Add(IdentityHeaders.SessionId, identity.SessionId);
        if (orgId.Length > 0) request.Headers.Add(IdentityHeaders.OrgId, orgId);
        if (orgRole.Length > 0) request.Headers.Add(IdentityHeaders.OrgRole, orgRole);
        request.Headers.Add(IdentityHeaders.Timestamp, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(IdentityHeaders.Signature, signature);
        return request;
    }
}
