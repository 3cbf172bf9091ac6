"""Runs commands alternately and reports, for each, the median wall time and the median and
largest peak RSS of its own process (from wait4's resource usage), after warm-up runs.
    python3 bench/alternate.py RUNS NAME=COMMAND... [NAME=COMMAND...]
COMMAND is split on spaces (no shell); its output is discarded; any exit code is accepted.
Prints one line per command, then the ratios of the first to each other one."""
import os, statistics, subprocess, sys, time

def once(argv):
    devnull = os.open(os.devnull, os.O_WRONLY)
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, _, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    os.close(devnull)
    return wall, usage.ru_maxrss

runs = int(sys.argv[1])
tools = [(a.split("=", 1)[0], a.split("=", 1)[1].split()) for a in sys.argv[2:]]
for _ in range(3):
    for _, argv in tools:
        once(argv)
results = {name: [] for name, _ in tools}
for _ in range(runs):
    for name, argv in tools:
        results[name].append(once(argv))
med = {}
for name, r in results.items():
    walls = [w for w, _ in r]
    rss = [m for _, m in r]
    med[name] = (statistics.median(walls), statistics.median(rss))
    print(f"  {name:<10} wall median {med[name][0]*1000:7.1f} ms (min {min(walls)*1000:.1f}, max {max(walls)*1000:.1f})"
          f"   peak RSS median {med[name][1]/1024:5.1f} MiB (max {max(rss)/1024:.1f})")
first = tools[0][0]
for name, _ in tools[1:]:
    print(f"  ratio {first}/{name}: wall {med[first][0]/med[name][0]:.2f}, peak RSS {med[first][1]/med[name][1]:.2f}")
