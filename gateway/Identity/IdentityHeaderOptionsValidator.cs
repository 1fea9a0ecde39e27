using Microsoft.Extensions.Options;

namespace Gateway.Identity;

/// <summary>
/// Every entry of <c>IdentityHeaders:Additional</c> must be a header name: a blank or malformed one would strip nothing,
/// so the header it was meant to cover would reach backends from clients unnoticed; and none may be a header the gateway
/// reads itself (<see cref="IdentityHeaderMatcher.Reserved"/>).
/// </summary>
internal sealed class IdentityHeaderOptionsValidator : IValidateOptions<IdentityHeaderOptions>
{
    public ValidateOptionsResult Validate(string? name, IdentityHeaderOptions options)
    {
        List<string>? errors = null;
        for (int i = 0; i < options.Additional.Count; i++)
            if (!IdentityHeaderMatcher.IsHeaderName(options.Additional[i]))
                (errors ??= []).Add($"IdentityHeaders:Additional:{i} '{options.Additional[i]}' is not a header name. Use letters, digits, '-', '_' or '.', e.g. X-Tenant-Id.");
            else if (IdentityHeaderMatcher.IsReserved(options.Additional[i]))
                (errors ??= []).Add(IdentityHeaderMatcher.ReservedMessage($"IdentityHeaders:Additional:{i}", options.Additional[i]));
        return errors is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
