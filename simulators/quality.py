"""Quality station simulator: tests every finished lot Odoo reports, sometimes fails one, later releases it.

Receives ``mfg.production_order.completed.v1``; for each finished lot reports a burst-pressure result
(``mfg.quality.result_reported.v1``). Every third result fails: Odoo puts the lot on hold. A retest later
passes and the station releases the hold (``mfg.quality.hold_released.v1``).
"""

import queue

from .mfgsim.client import rfc3339, utc_now
from .mfgsim.counterpart import ReceivingCounterpart, arguments
from .mfgsim.plant import QMS_ARTICLES, QMS_CHARACTERISTIC, QMS_LIMITS, QMS_TEST, own_code

COMPLETED = "mfg.production_order.completed.v1"
RESULT = "mfg.quality.result_reported.v1"
RELEASE = "mfg.quality.hold_released.v1"
FAIL_EVERY = 3


class QualityStation(ReceivingCounterpart):
    def __init__(self, args):
        super().__init__(args, "QUALITY")
        self.lots = queue.Queue()
        self.on_hold = []
        self.tested = 0

    def on_event(self, event, _webhook_id):
        if event["type"] != COMPLETED:
            return
        material = own_code(QMS_ARTICLES, event["data"]["product"])
        for lot in event["data"]["finished_lots"]:
            if material and lot["lot"]:
                self.lots.put((material, lot["lot"]))

    def tick(self):
        if self.on_hold and self.random.random() < 0.5:
            material, lot = self.on_hold.pop(0)
            self.post(
                RELEASE,
                {"lot": lot, "material": material, "reason": "Retest passed", "occurred_at": rfc3339(utc_now())},
            )
            return
        try:
            material, lot = self.lots.get_nowait()
        except queue.Empty:
            return
        self.tested += 1
        low, high = QMS_LIMITS
        failed = self.tested % FAIL_EVERY == 0
        value = round(self.random.uniform(low - 4, low - 1) if failed else self.random.uniform(low + 1, high), 1)
        response = self.post(
            RESULT,
            {
                "subject": {"lot": lot, "material": material},
                "test": QMS_TEST,
                "results": [{"characteristic": QMS_CHARACTERISTIC, "value": value, "ok": not failed}],
                "outcome": "fail" if failed else "pass",
                "inspector": "Quality station 1",
                "occurred_at": rfc3339(utc_now()),
            },
        )
        if failed and response is not None and response.status_code == 200:
            self.on_hold.append((material, lot))


def main():
    station = QualityStation(arguments(__doc__.splitlines()[0]))
    station.serve_until_stopped()


if __name__ == "__main__":
    main()
