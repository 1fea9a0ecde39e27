using System.Buffers.Binary;
using System.Text;

namespace Gateway.Caching;

/// <summary>
/// The envelope of an entry handed to the Redis tier:
/// <c>[version=2][int64 expiresAt unix ms][int64 writtenAt unix ms][uint16 tag count]([uint16 length][utf-8 tag])*[payload]</c>.
/// The tags travel with the entry so an instance that loads it from L2 can index it in its L1 for eviction; the expiry
/// is checked on the gateway's <see cref="TimeProvider"/>. A reader seeing another version treats the entry as a miss.
/// Version 2 added <c>writtenAt</c>: an instance whose invalidation subscription came back distrusts what was written
/// before (<see cref="TieredOutputCacheStore.DistrustEntriesWrittenBefore"/>).
/// </summary>
internal static class CacheEntryFormat
{
    public const byte Version = 2;
    private const int Header = 1 + 8 + 8 + 2;

    public static byte[] Write(byte[] payload, string[] tags, DateTimeOffset expiresAt, DateTimeOffset writtenAt)
    {
        int size = Header + payload.Length;
        foreach (var tag in tags) size += 2 + Encoding.UTF8.GetByteCount(tag);
        var buffer = new byte[size];
        buffer[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(1), expiresAt.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(9), writtenAt.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(17), (ushort)tags.Length);
        int offset = Header;
        foreach (var tag in tags)
        {
            int n = Encoding.UTF8.GetBytes(tag, buffer.AsSpan(offset + 2));
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(offset), (ushort)n);
            offset += 2 + n;
        }
        payload.CopyTo(buffer.AsSpan(offset));
        return buffer;
    }

    public static bool TryRead(byte[] buffer, out byte[] payload, out string[] tags, out DateTimeOffset expiresAt, out DateTimeOffset writtenAt)
    {
        payload = [];
        tags = [];
        expiresAt = writtenAt = default;
        if (buffer.Length < Header || buffer[0] != Version) return false;
        expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(1)));
        writtenAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(9)));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(17));
        int offset = Header;
        var read = new string[count];
        for (int i = 0; i < count; i++)
        {
            if (offset + 2 > buffer.Length) return false;
            int n = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(offset));
            if (offset + 2 + n > buffer.Length) return false;
            read[i] = Encoding.UTF8.GetString(buffer, offset + 2, n);
            offset += 2 + n;
        }
        tags = read;
        payload = buffer.AsSpan(offset).ToArray();
        return true;
    }
}
