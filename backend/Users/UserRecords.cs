namespace Backend.Users;

/// <summary>A user as returned by the API (never the password hash).</summary>
internal sealed record UserDto(Guid Id, string Email, string Name, string? DisplayName, string? Locale, string? Timezone, DateTime CreatedAt);

/// <summary><c>GET /auth/me</c>: the profile plus organisation memberships.</summary>
internal sealed record MeDto(Guid Id, string Email, string Name, string? DisplayName, string? Locale, string? Timezone,
    DateTime CreatedAt, Guid SessionId, IReadOnlyList<MembershipDto> Organizations);

internal sealed record MembershipDto(Guid Id, string Name, string Role);

internal sealed record RegisterRequest(string? Email, string? Password, string? Name);
internal sealed record LoginRequest(string? Email, string? Password);
internal sealed record LoginResponse(string Token, DateTime ExpiresAt, UserDto User);
internal sealed record ProfileRequest(string? Name, string? DisplayName, string? Locale, string? Timezone);
internal sealed record PasswordChangeRequest(string? CurrentPassword, string? NewPassword);
