#!/usr/bin/env python3
"""Per-stage CPU of a .NET proxy from a `perf record -g` profile (docs/performance.md, "Third pass").

Usage: stages.py STACKS REQUESTS [--leafs STAGE]
  STACKS    output of `perf script -F ip,sym` for the profiled process (bench/profile/profile.sh writes it)
  REQUESTS  requests served while perf recorded (µs per request = samples × sample period / REQUESTS)

Each sample goes to the innermost frame on its stack that belongs to a stage we can name: a type of the gateway, its
trust library or YARP; otherwise a framework assembly and type (Kestrel, HttpClient, sockets, routing, Redis); else
'other: <leaf>' (kernel frames, native code without frame pointers). "Innermost" makes the figure a stage's own cost
plus whatever framework code it called synchronously; work resumed after an await is charged to the frame that resumed
it. --leafs STAGE lists what inside one stage the samples were (for instance --leafs Gateway.Sessions.SessionValidationMiddleware).
"""
import collections, re, sys

OWN = ('gateway', 'Gateway.Trust', 'Yarp.ReverseProxy')
FRAMEWORK = ('System.Net.Http', 'Microsoft.AspNetCore.Routing', 'Microsoft.AspNetCore.Server.Kestrel.Core',
             'Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets', 'System.Net.Sockets',
             'Microsoft.AspNetCore.OutputCaching', 'StackExchange.Redis')
FRAME = re.compile(r'\[(' + '|'.join(re.escape(a) for a in OWN + FRAMEWORK) + r')\] ([A-Za-z0-9_.]+?)(::|\+|`)')
PERIOD_US = 1_000_000 / 999   # perf record -F 999


def stage_of(frames):
    for i, frame in enumerate(frames):
        m = FRAME.search(frame)
        if m:
            assembly, type_name = m.group(1), m.group(2)
            return i, (type_name if assembly in OWN else assembly + ' ' + type_name.split('.')[-1])
    leaf = frames[0] if frames else '?'
    return len(frames), 'other: ' + re.sub(r'\(.*', '', leaf)[:60]


def short(frame):
    frame = re.sub(r'\[OptimizedTier1\]|\[Optimized\]|instance |class |valuetype ', '', frame.strip())
    frame = re.sub(r'\[[A-Za-z0-9_.]+\]', '', frame)
    m = re.search(r'([A-Za-z0-9_`<>+.]+::[A-Za-z0-9_<>`.|]+)', frame)
    return m.group(1) if m else frame[:70]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    stacks = [[l.strip() for l in s.split('\n') if l.strip()] for s in open(sys.argv[1]).read().split('\n\n')]
    stacks = [s for s in stacks if s]
    requests = int(sys.argv[2])
    leafs = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == '--leafs' else None
    counts = collections.Counter()
    for frames in stacks:
        i, stage = stage_of(frames)
        if leafs is None:
            counts[stage] += 1
        elif stage == leafs:
            counts[' <- '.join(short(f) for f in frames[max(0, i - 2):i]) or 'self: ' + short(frames[i])] += 1
    total = sum(counts.values())
    for name, n in counts.most_common(40 if leafs is None else 20):
        print('%7.2f µs  %s' % (n * PERIOD_US / requests, name))
    print('%7.2f µs  %s' % (total * PERIOD_US / requests, 'total' if leafs is None else 'total of ' + leafs))


if __name__ == '__main__':
    main()
