using System.Diagnostics.Metrics;

namespace Backend.Data;

/// <summary>
/// Counts the database commands run inside a scope (a request, for <c>X-DB-Queries</c>). Npgsql reports the start of every
/// command, batch or single, on its meter (<c>db.client.operation.npgsql.executing</c> +1), synchronously on the caller's
/// async flow; a <see cref="MeterListener"/> therefore sees it with the request's <see cref="AsyncLocal{T}"/> in scope.
/// Chosen over an <c>ActivityListener</c> (it would make Npgsql create a span object for every command) and over counting
/// in each store (a command added later would be missed): this costs one callback per command and nothing else.
/// One listener per process: Npgsql's meter is static, so a listener per app instance would count each command once per
/// instance (tests host several backends in one process).
/// </summary>
internal static class DbCommandCounter
{
    private const string MeterName = "Npgsql";
    private const string ExecutingInstrument = "db.client.operation.npgsql.executing";

    private static readonly AsyncLocal<Scope?> Current = new();
    private static readonly Lock StartLock = new();
    private static MeterListener? _listener;

    /// <summary>Starts counting for the current async flow and everything it calls; read the count from the scope.</summary>
    public static Scope Begin()
    {
        EnsureListening();
        var scope = new Scope();
        Current.Value = scope;
        return scope;
    }

    private static void EnsureListening()
    {
        if (Volatile.Read(ref _listener) is not null) return;
        lock (StartLock)
        {
            if (_listener is not null) return;
            var listener = new MeterListener
            {
                InstrumentPublished = static (instrument, l) =>
                {
                    if (instrument.Meter.Name == MeterName && instrument.Name == ExecutingInstrument) l.EnableMeasurementEvents(instrument);
                },
            };
            listener.SetMeasurementEventCallback<int>(static (_, value, _, _) =>
            {
                // +1 when a command starts, -1 when it ends: count starts only.
                if (value > 0 && Current.Value is { } scope) Interlocked.Increment(ref scope.Count);
            });
            listener.Start();
            Volatile.Write(ref _listener, listener);
        }
    }

    /// <summary>The commands counted so far in one scope. Interlocked: a request may run commands concurrently.</summary>
    internal sealed class Scope
    {
        internal int Count;

        public int Commands => Volatile.Read(ref Count);
    }
}
