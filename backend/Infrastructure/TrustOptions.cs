using System.ComponentModel.DataAnnotations;
using System.Text;

namespace Backend.Infrastructure;

/// <summary>The secret shared with the gateway. Section <c>Trust</c>.</summary>
public sealed class TrustOptions : IValidatableObject
{
    /// <summary>Signs identity headers and guards <c>/internal/**</c>. Required, at least 32 bytes; set it from a secret store.</summary>
    [Required] public string SharedSecret { get; set; } = "";

    /// <summary>Allowed clock skew of signed identity headers. <value>The default is 30 seconds.</value></summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan AllowedClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Encoding.UTF8.GetByteCount(SharedSecret) < 32)
            yield return new ValidationResult("Trust:SharedSecret must be at least 32 bytes. Set Trust__SharedSecret from your secret store.", [nameof(SharedSecret)]);
    }
}
