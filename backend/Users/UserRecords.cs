namespace Backend.Users;

/// <summary>A user as returned by the API (never the password hash).</summary>
public sealed record UserDto(Guid Id, string Email, string Name, string? DisplayName, string? Locale, string? Timezone, DateTime CreatedAt);

/// <summary><c>GET /auth/me</c>: the profile plus organisation memberships.</summary>
public sealed record MeDto(Guid Id, string Email, string Name, string? DisplayName, string? Locale, string? Timezone,
    DateTime CreatedAt, Guid SessionId, IReadOnlyList<MembershipDto> Organizations);

public sealed record MembershipDto(Guid Id, string Name, string Role);

public sealed record RegisterRequest(string? Email, string? Password, string? Name);
public sealed record LoginRequest(string? Email, string? Password);
public sealed record LoginResponse(string Token, DateTime ExpiresAt, UserDto User);
public sealed record ProfileRequest(string? Name, string? DisplayName, string? Locale, string? Timezone);
public sealed record PasswordChangeRequest(string? CurrentPassword, string? NewPassword);
