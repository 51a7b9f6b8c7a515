"""WMS / 3PL simulator (North plant): ships released deliveries, moves bolts to the line, counts boxes.

Receives ``mfg.inventory.transfer_released.v1`` for the plant's deliveries and, a step later, confirms each
with ``mfg.shipment.dispatched.v1`` (every line shipped in full, in its own article codes). Reports
``mfg.inventory.movement_reported.v1`` (bin to line side) and ``mfg.inventory.count_reported.v1`` in its own
article and bin codes. Fault ``unknown_article``: one movement with an article code Odoo has no
mapping for yet; it lands in Inbound Exceptions until support adds the mapping and reprocesses it.
"""

import threading
import time

from .mfgsim.client import rfc3339, utc_now
from .mfgsim.counterpart import ReceivingCounterpart, arguments
from .mfgsim.plant import WMS_ARTICLES, WMS_NEW_ARTICLE, own_code

MOVEMENT = "mfg.inventory.movement_reported.v1"
COUNT = "mfg.inventory.count_reported.v1"
TRANSFER_RELEASED = "mfg.inventory.transfer_released.v1"
DISPATCHED = "mfg.shipment.dispatched.v1"


class Wms(ReceivingCounterpart):
    def __init__(self, args):
        super().__init__(args, "WMS-NP")
        self.steps = 0

    def on_event(self, event, _webhook_id):
        if event["type"] == TRANSFER_RELEASED:
            threading.Thread(target=self.ship, args=(event["data"],), daemon=True).start()

    def ship(self, transfer):
        """Pick, pack and ship a released delivery one pace later (also while the shift winds down)."""
        if not self.sleep(self.args.pace):
            return
        lines = [
            {"material": own_code(WMS_ARTICLES, line["material"]) or line["material"], "quantity": line["quantity"]}
            for line in transfer["lines"]
        ]
        data = {
            "transfer": transfer["transfer"],
            "lines": lines,
            "tracking_ref": f"TRK-{transfer['transfer'].replace('/', '-')}",
            "dispatched_at": rfc3339(utc_now()),
        }
        self.post(DISPATCHED, data)

    def tick(self):
        if self.winding_down():
            return
        self.steps += 1
        if self.schedule.due_once("unknown_article"):
            # In the demo, a code never seen before at each cycle (the last one's mapping exists by now).
            code = WMS_NEW_ARTICLE[0] if self.args.duration else f"{WMS_NEW_ARTICLE[0]}-{int(time.time())}"
            self.move(code, note="unknown_article")
        elif self.steps % 3 == 0:
            self.post(
                COUNT,
                {
                    "location": "BIN-A1",
                    "counted_at": rfc3339(utc_now()),
                    "lines": [{"material": "W-BOX", "counted_quantity": self.random.randint(180, 220)}],
                },
            )
        else:
            self.move("W-BOLT")

    def move(self, article, note=None):
        data = {
            "material": article,
            "quantity": self.random.randint(5, 20),
            "from_location": "BIN-A1",
            "to_location": "LINE-1",
            "reference": f"WMS-{self.random.randint(10000, 99999)}",
            "occurred_at": rfc3339(utc_now()),
        }
        self.post(MOVEMENT, data, note=note)


def main():
    wms = Wms(arguments(__doc__.splitlines()[0]))
    wms.serve_until_stopped()


if __name__ == "__main__":
    main()
