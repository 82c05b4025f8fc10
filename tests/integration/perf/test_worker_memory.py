"""A granian worker keeps no password-hash buffers (issue 10, docs/performance.md "Memory per worker").

Every argon2id check takes a 19 MiB buffer. Under glibc's defaults the first one freed raises the
mmap threshold, later buffers come from the arenas, and what concurrent sign-ins (one thread
each under granian) freed stays in the process. config/granian.env's malloc settings give each
buffer back when it is freed. Checked in a child process with exactly that file's MALLOC_* and
GLIBC_TUNABLES lines, the way granian gets them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

CHILD = r"""
import threading
from idp.security.passwords import PasswordHasher

def rss_mib():
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:")) / 1024

hasher = PasswordHasher()
stored = hasher.hash("correct horse battery staple")
before = rss_mib()
for _ in range(2):
    threads = [threading.Thread(target=hasher.verify, args=(stored, "correct horse battery staple")) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print(round(rss_mib() - before, 1))
"""


def malloc_settings() -> dict[str, str]:
    values = {}
    for line in (ROOT / "config" / "granian.env").read_text().splitlines():
        name, equals, value = line.strip().partition("=")
        if equals and not name.startswith("#") and (name.startswith("MALLOC_") or name == "GLIBC_TUNABLES"):
            values[name] = value
    return values


def test_concurrent_password_checks_leave_no_memory_behind_under_the_granian_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    env.update(malloc_settings())
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    grown = float(out.stdout.strip().splitlines()[-1])
    # 8 checks at once: 8 x 19 MiB kept without the settings (38-57 MiB measured), none with them.
    assert grown < 19, f"RSS grew by {grown} MiB after 16 concurrent argon2id checks"
