namespace Gateway.Trust;

/// <summary>The identity values the gateway signs. Empty string means "not present" (e.g. no organisation selected).</summary>
public readonly record struct SignedIdentity(string UserId, string SessionId, string OrgId, string OrgRole);
