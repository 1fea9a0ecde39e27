using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace Gateway.Tls;

/// <summary>
/// Holds the current TLS certificate and replaces it when the certificate or key file changes on disk, so a renewed
/// certificate is served on new connections without a restart. A file that fails to load (half-written, wrong
/// password) is logged and the previous certificate stays in use.
/// </summary>
internal sealed partial class CertificateReloader : IDisposable
{
    private readonly TlsOptions _options;
    private readonly ILogger<CertificateReloader> _logger;
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer _debounce;
    private volatile X509Certificate2 _current;

    public CertificateReloader(IOptions<TlsOptions> options, ILogger<CertificateReloader> logger)
    {
        _options = options.Value;
        _logger = logger;
        _current = CertificateLoader.Load(_options.CertificatePath!, _options.KeyPath, _options.Password);
        _debounce = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
        string dir = Path.GetDirectoryName(Path.GetFullPath(_options.CertificatePath!))!;
        _watcher = new FileSystemWatcher(dir) { NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime };
        _watcher.Changed += OnChanged;
        _watcher.Created += OnChanged;
        _watcher.Renamed += OnChanged;
        _watcher.EnableRaisingEvents = true;
    }

    public X509Certificate2 Current => _current;

    /// <summary>Raised after a new certificate was loaded.</summary>
    public event Action<X509Certificate2>? Reloaded;

    private void OnChanged(object sender, FileSystemEventArgs e)
    {
        string name = Path.GetFileName(e.FullPath);
        if (name == Path.GetFileName(_options.CertificatePath) || (_options.KeyPath is not null && name == Path.GetFileName(_options.KeyPath)))
            _debounce.Change(250, Timeout.Infinite); // editors and cert tools write in several steps
    }

    internal void Reload()
    {
        try
        {
            var next = CertificateLoader.Load(_options.CertificatePath!, _options.KeyPath, _options.Password);
            if (next.Thumbprint == _current.Thumbprint) { next.Dispose(); return; }
            _current = next; // the old one may still serve in-flight handshakes; let the GC finalize it
            Log.Reloaded(_logger, next.Subject, next.NotAfter);
            Reloaded?.Invoke(next);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException)
        {
            Log.ReloadFailed(_logger, _options.CertificatePath!, ex.Message);
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1501, LogLevel.Information, "TLS certificate reloaded: {Subject}, valid until {NotAfter:u}.", EventName = "TlsCertificateReloaded")]
        public static partial void Reloaded(ILogger logger, string subject, DateTime notAfter);

        [LoggerMessage(1502, LogLevel.Error, "TLS certificate '{Path}' could not be loaded ({Message}); the previous certificate stays in use.", EventName = "TlsCertificateReloadFailed")]
        public static partial void ReloadFailed(ILogger logger, string path, string message);
    }
}
