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
}
