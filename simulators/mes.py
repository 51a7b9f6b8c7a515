"""MES simulator (one process per plant): runs the job orders Odoo releases and reports the shop floor back.

Receives ``mfg.production_order.released.v1`` on its own webhook receiver (every signature verified), then per
order: starts the operation, reports a partial quantity with lot consumption (and now and then scrap),
sometimes a downtime, and closes the order with the rest. A serial-tracked product is reported one unit per
serial, the last report closing the order; on an order whose components are all untracked, every other report
comes without ``consumed`` (Odoo consumes per BOM). It speaks its own article and work-center codes.
While its uplink is down (fault ``mes_offline``) it keeps its reports in a SQLite store-and-forward buffer and
flushes them through ``/events/batch`` when back, with the times they happened.
"""

import math
import random
import threading
from pathlib import Path

from .mfgsim import StoreAndForward
from .mfgsim.client import rfc3339, utc_now
from .mfgsim.counterpart import ReceivingCounterpart, arguments
from .mfgsim.plant import LINE_SIDE_LOTS, MES_ARTICLES, MES_DOWNTIME_REASONS, MES_WORK_CENTERS, own_code

RELEASED = "mfg.production_order.released.v1"
PROGRESS = "mfg.work_order.progress_reported.v1"
PERFORMANCE = "mfg.production.performance_reported.v1"
DOWNTIME = "mfg.equipment.downtime_reported.v1"


class Mes(ReceivingCounterpart):
    def __init__(self, args):
        super().__init__(args, f"MES-{args.plant}")
        self.plant = args.plant
        self.articles = MES_ARTICLES[args.plant]
        self.buffer = StoreAndForward(str(Path(args.journal_dir) / f"{self.system}-buffer.sqlite"))
        self.offline = False
        self.refused_before = 0
        self.last_posted = None
        self.lock = threading.Lock()

    def on_event(self, event, webhook_id):
        if event["type"] == RELEASED:
            threading.Thread(target=self.run_job, args=(event["data"], webhook_id), daemon=True).start()

    # -- faults ---------------------------------------------------------------

    def tick(self):
        if self.plant == "SP":
            self.receiver_outage()
        if self.plant == "NP":
            self.uplink_outage()
            if self.schedule.due("duplicate_post") and self.last_posted and not self.offline:
                self.send(self.last_posted, note="duplicate_post")
                self.schedule.done("duplicate_post")

    def receiver_outage(self):
        window = self.schedule.active("receiver_5xx")
        if window and not self.receiver.failing:
            self.receiver.failing = True
            self.refused_before = self.receiver.refused
        elif self.receiver.failing and not window and self.receiver.refused > self.refused_before:
            self.receiver.failing = False

    def uplink_outage(self):
        window = self.schedule.active("mes_offline")
        # The lock keeps job threads from posting past the buffer: reports reach Odoo in the order they happened.
        with self.lock:
            if window and not self.offline:
                self.offline = True
                self.journal.write("offline")
            elif len(self.buffer) and not (self.offline and window):
                results = self.buffer.flush(self.client)
                self.journal.write(
                    "flushed",
                    results=[{"id": r["id"], "status": r["status"], "replayed": r["replayed"]} for r in results],
                )
                self.offline = False

    # -- the shop floor -------------------------------------------------------

    def report(self, event_type, data):
        event = self.client.event(event_type, data, occurred_at=utc_now())
        with self.lock:
            if self.offline:
                self.buffer.add(event)
                self.journal.write("buffered", event_id=event["id"], type=event_type, time=event["time"], data=data)
                return
        response = self.send(event)
        if response is not None and response.status_code == 200:
            self.last_posted = event

    def run_job(self, job, webhook_id):
        order = job["production_order"]
        # One random stream per order: the same seed gives the same shift whatever the threads' timing.
        rng = random.Random(f"{self.args.seed}:{self.plant}:{order}")
        self.journal.write(
            "job",
            order=order,
            webhook_id=webhook_id,
            quantity=job["quantity"],
            article=own_code(self.articles, job["product"]),
        )
        components = []
        for component in job["components"]:
            code = own_code(self.articles, component["material"])
            lot = LINE_SIDE_LOTS[self.plant].get(self.articles[code]) if component["tracking"] != "none" else None
            components.append((code, component["quantity"] / job["quantity"], lot))
        untracked = all(lot is None for _code, _per_unit, lot in components)

        def consumed(report):
            """Untracked components: every other report without ``consumed`` (Odoo consumes per BOM)."""
            return None if untracked and report % 2 else components

        operation = job["operations"][0]
        work_center = own_code(MES_WORK_CENTERS[self.plant], operation["work_center"])
        lot = f"{self.plant}-{order.replace('/', '-')}"
        if job["tracking"] == "serial":
            count = int(job["quantity"])
            reports = [
                self.performance(order, 1, f"{lot}-{n:02d}", consumed(n), close=n == count) for n in range(1, count + 1)
            ]
        else:
            first = max(1, math.floor(job["quantity"] * rng.uniform(0.3, 0.6)))
            reports = [
                self.performance(order, first, lot, consumed(1), scrap=rng.random() < 0.5),
                self.performance(order, job["quantity"] - first, lot, consumed(2), close=True),
            ]
        steps = [
            (PROGRESS, {"production_order": order, "operation": operation["name"], "action": "start"}),
            (PERFORMANCE, reports[0]),
        ]
        if rng.random() < 0.5:
            reason = next(iter(MES_DOWNTIME_REASONS[self.plant]))
            steps.append(
                (
                    DOWNTIME,
                    {"work_center": work_center, "reason": reason, "production_order": order, "note": "simulated stop"},
                )
            )
        steps += [(PERFORMANCE, report) for report in reports[1:]]
        for event_type, data in steps:
            started = utc_now()
            if not self.sleep(self.args.pace):
                return
            if event_type == DOWNTIME:
                data = {**data, "started_at": rfc3339(started), "ended_at": rfc3339(utc_now())}
            else:
                data = {**data, "occurred_at": rfc3339(utc_now())}
            self.report(event_type, data)

    def performance(self, order, quantity, lot, components, scrap=False, close=False):
        """A production report; ``components`` None: without ``consumed`` (per BOM)."""
        data = {"production_order": order, "quantity": quantity, "lot": lot, "close": close}
        if components is None:
            return data
        consumed = []
        for code, per_unit, component_lot in components:
            line = {"material": code, "quantity": round(per_unit * quantity, 4)}
            if component_lot:
                line["lot"] = component_lot
            consumed.append(line)
        data["consumed"] = consumed
        tracked = [line for line in consumed if "lot" in line]
        if scrap and tracked:
            data["scrap"] = [{"material": tracked[0]["material"], "quantity": 1, "lot": tracked[0]["lot"]}]
        return data


def main():
    args = arguments(__doc__.splitlines()[0], plant={"required": True, "choices": sorted(MES_ARTICLES)})
    mes = Mes(args)
    mes.serve_until_stopped()


if __name__ == "__main__":
    main()
