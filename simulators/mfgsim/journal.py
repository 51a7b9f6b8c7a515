"""The simulators' log: one JSON object per line, what a counterpart did and what it was answered."""

import json
import threading
import time


class Journal:
    def __init__(self, path, component):
        self.component = component
        self.lock = threading.Lock()
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (kept open for the process's life)

    def write(self, what, **fields):
        line = json.dumps({"at": time.time(), "component": self.component, "what": what, **fields}, sort_keys=True)
        with self.lock:
            self.file.write(line + "\n")
            self.file.flush()


def read_journal(path):
    with open(path, encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]
