using System.ComponentModel.DataAnnotations;

namespace Gateway.Tls;

/// <summary>TLS termination. Section <c>Tls</c>. Off unless <see cref="CertificatePath"/> is set.</summary>
internal sealed class TlsOptions
{
    /// <summary>Where the HTTPS listener binds, e.g. <c>https://0.0.0.0:8443</c>. <value>The default is https://127.0.0.1:8443.</value></summary>
    public string Url { get; set; } = "https://127.0.0.1:8443";

    /// <summary>Certificate file: a PEM certificate (with <see cref="KeyPath"/>) or a PFX/PKCS#12 file. Reloaded when the file changes.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key for a PEM certificate; null when the key is in the same PEM file or in the PFX.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Password of an encrypted PFX or PEM key.</summary>
    public string? Password { get; set; }

    /// <summary>Send <c>Strict-Transport-Security</c> on TLS responses. <value>The default is true.</value></summary>
    public bool Hsts { get; set; } = true;

    /// <summary>HSTS max-age. <value>The default is 365 days.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00", "730.00:00:00", ErrorMessage = "Tls:HstsMaxAge must be between {1} and {2} (0 tells browsers to forget the policy), e.g. 365.00:00:00.")]
    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Add <c>includeSubDomains</c> to HSTS. <value>The default is true.</value></summary>
    public bool HstsIncludeSubDomains { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);
}
