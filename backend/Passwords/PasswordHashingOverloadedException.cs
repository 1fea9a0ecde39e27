namespace Backend.Passwords;

/// <summary>The hashing bulkhead is full: the caller should answer 503 with Retry-After.</summary>
internal sealed class PasswordHashingOverloadedException() : Exception("Too many password operations are in progress.");
