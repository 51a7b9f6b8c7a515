"""Store-and-forward: events kept in SQLite while the hub is out of reach, flushed in batches when back."""

import json
import sqlite3
import threading

from .client import RETRY_STATUSES, HubError

BATCH_SIZE = 500  # the hub's limit per /events/batch call


class StoreAndForward:
    """A durable FIFO of CloudEvents. Every event keeps its own id and time (when it happened),
    so a flush after an outage is applied once and dated correctly by the hub."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL)"
        )

    def add(self, event):
        with self.lock:
            self.db.execute("INSERT INTO outbox (event) VALUES (?)", (json.dumps(event),))

    def __len__(self):
        with self.lock:
            return self.db.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def flush(self, client, batch_size=BATCH_SIZE):
        """Send everything buffered, oldest first; returns the per-event results.

        An event is removed once the hub answered for it (2xx, or a 4xx that support handles in
        Inbound Exceptions); events answered 5xx, 429 or 409 (still being applied) stay for the next flush.
        """
        results = []
        while True:
            with self.lock:
                rows = self.db.execute("SELECT seq, event FROM outbox ORDER BY seq LIMIT ?", (batch_size,)).fetchall()
            if not rows:
                return results
            try:
                answers = client.post_batch([json.loads(event) for _seq, event in rows])
            except HubError:
                return results
            done = [
                seq
                for (seq, _event), answer in zip(rows, answers, strict=True)
                if answer["status"] not in RETRY_STATUSES
            ]
            with self.lock:
                self.db.executemany("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq in done])
            results.extend(answers)
            if len(done) < len(rows):
                return results
