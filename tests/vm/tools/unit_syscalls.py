#!/usr/bin/env python3
"""Checks that a service's SystemCallFilter= allows every system call the
service made, as recorded by `strace -f -o FILE` (any strace output format
with "PID name(" lines).

systemd kills a service with SIGSYS on the first call its filter does not
allow (no SystemCallErrorNumber=), so one missing call makes the unit
unusable; without systemd in the guest this is the way to find out.

  unit_syscalls.py expr UNIT         the strace -e trace= expression that
                                     records only the calls the filter refuses
  unit_syscalls.py UNIT STRACE_LOG   check a log (all calls, or only those)

Tracing every call under TCG made the daemon several times slower; with the
expression (and strace --seccomp-bpf) the service runs at full speed and the
log holds only what systemd would have killed it for, plus strace's
"+++ exited" lines, which show that the trace covered the whole run.

The filter is evaluated as systemd does (systemd.exec(5)): the first
assignment decides between an allow list (no ~) and a deny list (~); later
assignments add to or, with ~, remove from it, in order; an empty assignment
resets. Groups (@name) are expanded with `systemd-analyze syscall-filter`.
Exit status 0: every call allowed; 1: some are not (listed); 2: bad input.
"""
import re
import subprocess
import sys


def load_groups():
    """{"@group": set(members)}, nested groups expanded."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                         capture_output=True, text=True).stdout
    raw, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = line.strip()
            raw[current] = set()
        elif current and line.strip() and not line.strip().startswith("#"):
            raw[current].add(line.strip())

    def expand(name, seen=()):
        members = set()
        for m in raw.get(name, ()):
            if m.startswith("@"):
                if m not in seen:
                    members |= expand(m, seen + (name,))
            else:
                members.add(m)
        return members

    return {name: expand(name) for name in raw}


def filter_lines(unit_path):
    values = []
    with open(unit_path) as unit:
        for line in unit:
            line = line.strip()
            if line.startswith("SystemCallFilter="):
                values.append(line.split("=", 1)[1].strip())
    return values


def evaluate(values, groups):
    """(mode, set): mode "allow" or "deny", or (None, None) without a filter."""
    mode, names = None, set()
    for value in values:
        if value == "":
            mode, names = None, set()
            continue
        negate = value.startswith("~")
        items = value[1:].split() if negate else value.split()
        expanded = set()
        for item in items:
            if item.startswith("@"):
                if item not in groups:
                    raise SystemExit(f"unknown syscall group {item}")
                expanded |= groups[item]
            else:
                expanded.add(item.split(":")[0])  # name:errno
        if mode is None:
            mode = "deny" if negate else "allow"
        if (mode == "allow") != negate:
            names |= expanded
        else:
            names -= expanded
    return mode, names


def used_syscalls(strace_path):
    pattern = re.compile(r"^(?:\[pid\s+)?\d+\]?\s+(?:<\.\.\. )?([a-z_][a-z0-9_]*)(?:\(| resumed>)")
    used = {}
    with open(strace_path, errors="replace") as log:
        for line in log:
            m = pattern.match(line)
            if m:
                used[m.group(1)] = used.get(m.group(1), 0) + 1
    return used


def strace_expression(mode, names):
    # "?" lets strace skip names it does not know (other architectures').
    listed = ",".join("?" + n for n in sorted(names))
    return ("trace=!" if mode == "allow" else "trace=") + listed


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "expr":
        mode, names = evaluate(filter_lines(sys.argv[2]), load_groups())
        if mode is None:
            print("trace=all")
        else:
            print(strace_expression(mode, names))
        return 0
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    unit_path, strace_path = sys.argv[1:]
    mode, names = evaluate(filter_lines(unit_path), load_groups())
    used = used_syscalls(strace_path)
    with open(strace_path, errors="replace") as log:
        exits = sum(1 for line in log if "+++ exited" in line or "+++ killed" in line)
    if not used and not exits:
        print(f"{strace_path} records neither a system call nor a process exit", file=sys.stderr)
        return 2
    if mode is None:
        print(f"{unit_path} has no SystemCallFilter=: nothing to check")
        return 0
    refused = sorted(n for n in used if (n not in names) == (mode == "allow"))
    print(f"{unit_path}: {mode} list of {len(names)} system calls; "
          f"the log records {len(used)} different ones ({sum(used.values())} calls) and {exits} process exits")
    for name in refused:
        print(f"REFUSED by SystemCallFilter=: {name} ({used[name]} calls)")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
