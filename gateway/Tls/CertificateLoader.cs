using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tls;

internal static class CertificateLoader
{
    /// <summary>Loads a PFX/PKCS#12 file, or a PEM certificate with its key (same file or <paramref name="keyPath"/>).</summary>
    public static X509Certificate2 Load(string certificatePath, string? keyPath, string? password)
    {
        if (!File.Exists(certificatePath))
            throw new FileNotFoundException($"TLS certificate file '{certificatePath}' does not exist. Set Tls:CertificatePath to a PEM or PFX file.", certificatePath);
        string ext = Path.GetExtension(certificatePath).ToLowerInvariant();
        if (ext is ".pfx" or ".p12")
            return X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password, X509KeyStorageFlags.EphemeralKeySet);

        var pem = string.IsNullOrEmpty(password)
            ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, keyPath);
        // SslStream on Linux needs a certificate whose key is usable for the handshake; a PKCS#12 round-trip gives that.
        using (pem)
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.EphemeralKeySet);
    }
}
