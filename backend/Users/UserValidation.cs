using System.Net.Mail;

namespace Backend.Users;

/// <summary>Input rules; every problem is collected so a client sees them all at once.</summary>
internal static class UserValidation
{
    public const int MinPassword = 12;
    public const int MaxPassword = 128;
    public const int MaxName = 200;
    public const int MaxEmail = 254;

    /// <summary>Trimmed, lower-cased, NFD: the form uniqueness is checked on (<see cref="Gateway.Trust.Accounts.AccountEmail"/>).</summary>
    public static string NormalizeEmail(string email) => Gateway.Trust.Accounts.AccountEmail.Normalize(email);

    public static void Email(string? email, Dictionary<string, string[]> errors)
    {
        string e = email?.Trim() ?? "";
        if (e.Length == 0) { errors["email"] = ["Email is required."]; return; }
        bool ok = e.Length <= MaxEmail && Gateway.Trust.Accounts.AccountEmail.TryNormalize(e, out _)
            && MailAddress.TryCreate(e, out var parsed) && parsed.Address == e
            && e.IndexOf('@') > 0 && e.LastIndexOf('.') > e.IndexOf('@') + 1 && !e.EndsWith('.');
        if (!ok) errors["email"] = ["Email is not a valid address."];
    }

    public static void Password(string? password, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(password)) { errors[field] = ["Password is required."]; return; }
        // Length in Unicode scalar values (what a user counts), not UTF-16 code units.
        int length = password.EnumerateRunes().Count();
        if (length < MinPassword) errors[field] = [$"Password must be at least {MinPassword} characters."];
        else if (length > MaxPassword) errors[field] = [$"Password must be at most {MaxPassword} characters."];
    }

    public static void Name(string? name, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(name)) errors["name"] = ["Name is required."];
        else if (name.Trim().Length > MaxName) errors["name"] = [$"Name must be at most {MaxName} characters."];
    }

    public static void Optional(string? value, string field, int max, Dictionary<string, string[]> errors)
    {
        if (value is not null && value.Length > max) errors[field] = [$"{field} must be at most {max} characters."];
    }

    /// <summary>
    /// An IANA time zone id as clients expect one: found in the system's zone database under exactly this spelling,
    /// segments of letters, digits and <c>_+-</c> separated by single slashes. The lookup alone is a file lookup under
    /// /usr/share/zoneinfo, so it also took <c>Europe//Paris</c>, <c>posix/Europe/Paris</c>, <c>right/UTC</c>,
    /// <c>localtime</c> and <c>posixrules</c>: files, not zones, and ids no client library parses.
    /// </summary>
    public static bool IsTimeZoneId(string id)
    {
        if (id.Length == 0 || NotZones.Contains(id)) return false;
        int segmentStart = 0;
        for (int i = 0; i <= id.Length; i++)
        {
            if (i < id.Length && id[i] != '/')
            {
                char c = id[i];
                if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '+' or '-')) return false;
                continue;
            }
            if (i == segmentStart) return false;   // an empty segment: a leading, trailing or doubled slash
            if (segmentStart == 0 && id.AsSpan(0, i) is "posix" or "right") return false;   // the database's variant trees
            segmentStart = i + 1;
        }
        return TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) && string.Equals(zone.Id, id, StringComparison.Ordinal);
    }

    private static readonly HashSet<string> NotZones = new(StringComparer.Ordinal) { "localtime", "posixrules", "Factory" };
}
