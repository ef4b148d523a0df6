"""Summarise a `py-spy record -f raw` file: share of samples per frame, inclusive and self.

    .venv/bin/python bench/scale/profile_summary.py PROFILE.txt [TOP]
"""
import sys, collections, re
incl = collections.Counter(); selfc = collections.Counter(); total = 0
for line in open(sys.argv[1]):
    stack, _, n = line.rstrip().rpartition(" ")
    n = int(n); total += n
    frames = stack.split(";")
    names = [re.sub(r" \(/work/main/\.venv/lib/python3.11/site-packages/| \(/work/main/src/", " (", f) for f in frames]
    for f in set(names):
        incl[f] += n
    selfc[names[-1]] += n
print("total samples", total)
print("--- inclusive")
for f, n in incl.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 45):
    print(f"{100*n/total:5.1f}% {f[:150]}")
print("--- self")
for f, n in selfc.most_common(20):
    print(f"{100*n/total:5.1f}% {f[:150]}")
