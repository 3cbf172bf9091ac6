"""Runs a command and reports its wall time and the peak memory of its process tree, leaving out
Chromium's own processes (the browser is the same for every tool compared):
    python3 bench/tree.py COMMAND [ARG...]   →   prints "seconds peak_kib" on the last line
The tree is sampled from /proc every 5 ms."""
import os, subprocess, sys, time

BROWSER = {"chromium", "chrome", "chrome_crashpad_handler", "headless_shell"}

def children():
    kids = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(pid))
    return kids

def rss_kib(pid):
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
        if exe in BROWSER:
            return 0
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
peak = 0
while proc.poll() is None:
    kids = children()
    tree, todo = [], [proc.pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(kids.get(p, []))
    peak = max(peak, sum(rss_kib(p) for p in tree))
    time.sleep(0.005)
elapsed = time.perf_counter() - start
if proc.returncode != 0:
    sys.exit(f"{sys.argv[1]} exited {proc.returncode}")
print(f"{elapsed:.4f} {peak}")
