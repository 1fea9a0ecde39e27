using System.Collections.Concurrent;

namespace Gateway.Pipeline;

/// <summary>
/// Members grouped under a key, for eviction by key (a user's cached sessions, a tag's cached responses), safe under
/// concurrent adds and removes. A group leaves the index with its last member: keys come and go (every user, every
/// session), and empty groups left behind were a slow leak for the life of the process. A group being dropped is
/// retired under its lock, so a concurrent add never lands in it (the add retries on a fresh group) and stays reachable.
/// </summary>
internal sealed class GroupIndex<TKey, TMember> where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Group> _groups;
    private readonly IEqualityComparer<TMember>? _members;

    public GroupIndex(IEqualityComparer<TKey>? keys = null, IEqualityComparer<TMember>? members = null)
    {
        _groups = new(keys);
        _members = members;
    }

    /// <summary>Keys with at least one member.</summary>
    public int Count => _groups.Count;

    public void Add(TKey key, TMember member)
    {
        while (true)
        {
            var group = _groups.GetOrAdd(key, static (_, comparer) => new Group(comparer), _members);
            lock (group)
            {
                if (group.Retired) continue;   // dropped meanwhile: the next GetOrAdd makes a new one
                group.Members.Add(member);
                return;
            }
        }
    }

    /// <summary>
    /// Takes <paramref name="member"/> out of <paramref name="key"/>'s group, unless <paramref name="storedAgain"/> says
    /// (under the group's lock) that it was stored again since its entry came out: the new entry keeps its place. Its own
    /// <see cref="Add"/> follows its store and takes the same lock, so a store after the check indexes itself.
    /// </summary>
    public void Remove<TState>(TKey key, TMember member, Func<TState, bool> storedAgain, TState state)
    {
        if (!_groups.TryGetValue(key, out var group)) return;
        lock (group)
        {
            if (storedAgain(state)) return;
            group.Members.Remove(member);
            if (group.Members.Count == 0 && !group.Retired)
            {
                group.Retired = true;
                _groups.TryRemove(new KeyValuePair<TKey, Group>(key, group));
            }
        }
    }

    /// <summary>Drops <paramref name="key"/>'s group; returns the members it had (empty when none).</summary>
    public TMember[] RemoveGroup(TKey key)
    {
        if (!_groups.TryRemove(key, out var group)) return [];
        lock (group)
        {
            group.Retired = true;
            return [.. group.Members];
        }
    }

    /// <summary>One key's members; changed only under its own lock. Retired once dropped from the index.</summary>
    private sealed class Group(IEqualityComparer<TMember>? comparer)
    {
        public readonly HashSet<TMember> Members = new(comparer);
        public bool Retired;
    }
}
