"""How busy the machine is, and how much memory a process peaked at: for the benchmarks' children
(standard library only, so that Magenta's venv and the port's both import it)."""

import os
import resource
import sys
import time


def cpu_jiffies():
    """(busy, total) jiffies of the whole machine from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def busy_cores(seconds):
    """How many cores the machine kept busy over the next `seconds` (None off Linux)."""
    before = cpu_jiffies()
    time.sleep(seconds)
    after = cpu_jiffies()
    if before is None or after is None:
        return None
    return (after[0] - before[0]) / os.sysconf("SC_CLK_TCK") / seconds


def wait_until_quiet(threshold, patience):
    """Waits (up to `patience` s) until other processes keep less than `threshold` cores busy."""
    if threshold <= 0:
        return None
    start = time.monotonic()
    while True:
        busy = busy_cores(5.0)
        if busy is None or busy < threshold:
            return busy
        if time.monotonic() - start > patience:
            print(f"  machine still busy ({busy:.2f} cores) after {patience:.0f} s; measuring anyway",
                  file=sys.stderr, flush=True)
            return busy
        time.sleep(10.0)


def peak_rss_mb():
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_note(result):
    """How contended a run was: cores used by the run itself and by every other process."""
    if result is None or "other_processes_cores" not in result:
        return ""
    return (f" [run used {result['child_cpu_cores']:.2f} cores, other processes "
            f"{result['other_processes_cores']:.2f} of {os.cpu_count()}]")
