using System.Security.Claims;
using Gateway.Trust;

namespace Backend.Sessions;

/// <summary>Reads the caller's user and session ids from the principal built by either authentication scheme.</summary>
internal static class CurrentUser
{
    public static Guid UserId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : Guid.Empty;

    public static Guid SessionId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(GatewayIdentityHandler.SessionIdClaim), out var id) ? id : Guid.Empty;
}
