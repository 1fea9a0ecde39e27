using Gateway.Contracts;

namespace Backend.Sessions;

/// <summary>A principal (the contract type, docs/contracts.md) together with the token hash it is stored under.</summary>
internal readonly record struct HashedPrincipal(string TokenHash, SessionPrincipal Principal);
