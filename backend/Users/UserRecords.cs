namespace Backend.Users;

/// <summary>A user as returned by the API (never the password hash).</summary>
internal sealed record UserDto(Guid Id, string Email, string Name, string? DisplayName, string? Locale, string? Timezone, DateTime CreatedAt);

/// <summary><c>GET /auth/me</c>: the profile plus organisation memberships.</summary>
internal sealed record MeDto(Guid Id, string Email, string Name, string? DisplayName, string? Locale, string? Timezone,
    DateTime CreatedAt, Guid SessionId, IReadOnlyList<MembershipDto> Organizations);

internal sealed record MembershipDto(Guid Id, string Name, string Role);

internal sealed record RegisterRequest(string? Email, string? Password, string? Name);
/// <param name="DeviceToken">The <c>deviceToken</c> an earlier login of this account answered, if the client kept it
/// (<see cref="Gateway.Trust.LoginDeviceTokens"/>): its attempts are then counted per device, not per account.</param>
internal sealed record LoginRequest(string? Email, string? Password, string? DeviceToken = null);
/// <param name="DeviceToken">Proof of this sign-in for the next ones (keep it and send it with the next login).</param>
internal sealed record LoginResponse(string Token, DateTime ExpiresAt, UserDto User, string DeviceToken);
internal sealed record ProfileRequest(string? Name, string? DisplayName, string? Locale, string? Timezone);
internal sealed record PasswordChangeRequest(string? CurrentPassword, string? NewPassword);
