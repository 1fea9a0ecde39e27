using Gateway.Routing.Validation;
using Microsoft.Extensions.Options;

namespace Gateway.Browsers;

/// <summary>Each trusted origin must be written as browsers send <c>Origin</c>; any other spelling would never match, and the app's requests would be refused.</summary>
internal sealed class CsrfOptionsValidator : IValidateOptions<CsrfOptions>
{
    public ValidateOptionsResult Validate(string? name, CsrfOptions options)
    {
        List<string>? errors = null;
        for (int i = 0; i < options.TrustedOrigins.Count; i++)
        {
            string origin = options.TrustedOrigins[i] ?? "";
            string? problem = origin == "*" ? "is a wildcard. List exact origins: a cookie request from any site is what the check refuses."
                : CorsPoliciesValidator.OriginProblem(origin);
            if (problem is not null) (errors ??= []).Add($"Sessions:Csrf:TrustedOrigins:{i} '{origin}' {problem}");
        }
        return errors is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
