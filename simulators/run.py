"""Start every simulator beside a running Odoo: both MES, the WMS, the supplier portal, the quality station, a planner.

``python3 -m simulators.run --credentials FILE --database DB --journal-dir DIR [--duration S] [--period S] [--pace S]``
One process per counterpart, one log line each; Ctrl-C (or SIGTERM) stops them all.
"""

import argparse
import signal
import subprocess
import sys
import time

COMPONENTS = (
    ("MES North plant", ["simulators.mes", "--plant", "NP"]),
    ("MES South plant", ["simulators.mes", "--plant", "SP"]),
    ("WMS / 3PL", ["simulators.wms"]),
    ("Supplier portal", ["simulators.supplier"]),
    ("Quality station", ["simulators.quality"]),
    ("Planner and support", ["simulators.planner"]),
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--journal-dir", required=True)
    parser.add_argument("--seed", default="42")
    parser.add_argument("--period", default="300")
    parser.add_argument("--pace", default="5")
    parser.add_argument("--duration", default="0")
    parser.add_argument("--no-faults", action="store_true")
    args = parser.parse_args()
    common = [
        "--credentials",
        args.credentials,
        "--journal-dir",
        args.journal_dir,
        "--seed",
        args.seed,
        "--period",
        args.period,
        "--pace",
        args.pace,
        "--duration",
        args.duration,
        "--start",
        str(time.time()),
    ] + (["--no-faults"] if args.no_faults else [])
    children = []
    for label, command in COMPONENTS:
        extra = ["--database", args.database] if command[0] == "simulators.planner" else []
        children.append(subprocess.Popen([sys.executable, "-m", *command, *common, *extra]))
        print(f"[sim] {label}: started (pid {children[-1].pid}, journal {args.journal_dir})", flush=True)

    def stop(*_args):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A counterpart that dies takes the others down: a shift with a missing system proves nothing.
    while any(child.poll() is None for child in children):
        if any(child.poll() not in (None, 0, -signal.SIGTERM) for child in children):
            stop()
        time.sleep(0.5)
    failed = [
        label
        for (label, _command), child in zip(COMPONENTS, children, strict=True)
        if child.returncode not in (0, -signal.SIGTERM)
    ]
    if failed:
        print(f"[sim] failed: {', '.join(failed)}", file=sys.stderr, flush=True)
        sys.exit(1)
    print("[sim] all simulators stopped", flush=True)


if __name__ == "__main__":
    main()
