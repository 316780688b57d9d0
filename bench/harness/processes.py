"""Ports, child processes and their memory, read from /proc (psutil is not a dependency)."""

import random
import socket
import sys
from pathlib import Path


def step(message: str) -> None:
    """A progress line on stderr, so that stdout holds only the bench's table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port(ports: range, taken: set[int] = frozenset(), rng: random.Random | None = None) -> int:
    """A loopback port in `ports` that nothing listens on now. Tried from a random place, so that two runs
    at once rarely reach for the same port; a fixed range keeps each kind of run apart from the others."""
    start = (rng or random).randrange(len(ports))
    for port in [*ports[start:], *ports[:start]]:
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def _stat(pid: int | str) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces; the state and ppid follow it.
    return stat[stat.rindex(")") + 2 :].split()


def children(pid: int) -> list[int]:
    """Living (not zombie) child process ids."""
    found = []
    for entry in Path("/proc").iterdir():
        if (
            entry.name.isdigit()
            and (fields := _stat(entry.name))
            and int(fields[1]) == pid
            and fields[0] != "Z"
        ):
            found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def rss_mb(pid: int | str, field: str = "VmRSS") -> float | None:
    """Resident memory now (VmRSS) or at its peak (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None
