"""Supplier portal simulator: acknowledges the purchase orders Odoo sends, then ships them with ASNs.

Receives ``mfg.purchase_order.confirmed.v1``; acknowledges (accepted, or now and then changed: later dates,
fewer pieces), then announces the shipment: all at once, or in two partial ASNs. Lots are the supplier's own.
"""

import queue
from datetime import timedelta

from .mfgsim.client import rfc3339, utc_now
from .mfgsim.counterpart import ReceivingCounterpart, arguments

CONFIRMED = "mfg.purchase_order.confirmed.v1"
ACKNOWLEDGED = "mfg.supplier.order_acknowledged.v1"
ASN = "mfg.supplier.shipment_notified.v1"


class SupplierPortal(ReceivingCounterpart):
    def __init__(self, args):
        super().__init__(args, "SUPPLIER")
        self.orders = queue.Queue()

    def on_event(self, event, _webhook_id):
        if event["type"] == CONFIRMED:
            self.orders.put(event["data"])

    def tick(self):
        try:
            order = self.orders.get_nowait()
        except queue.Empty:
            return
        self.handle(order)

    def handle(self, order):
        name = order["purchase_order"]
        changed = self.random.random() < 0.4
        shipped = []
        ack_lines = []
        for line in order["lines"]:
            quantity = line["quantity"]
            promised = utc_now() + timedelta(days=7)
            if changed:
                quantity = max(1.0, quantity - self.random.randint(0, 5))
                promised += timedelta(days=self.random.randint(1, 5))
            ack_lines.append({"material": line["material"], "quantity": quantity, "promised_date": rfc3339(promised)})
            shipped.append((line["material"], quantity))
        status = "changed" if changed else "accepted"
        self.post(
            ACKNOWLEDGED,
            {
                "purchase_order": name,
                "status": status,
                "lines": ack_lines,
                "note": "Foundry capacity" if changed else "OK",
            },
        )
        partial = self.random.random() < 0.5
        for number, share in enumerate((0.5, 0.5) if partial else (1.0,), start=1):
            if not self.sleep(self.args.pace):
                return
            lines = [
                {"material": material, "quantity": q, "lot": f"ACME-{name}-{number}"}
                for material, quantity in shipped
                if (q := round(quantity * share) if number == 1 else quantity - round(quantity * 0.5)) > 0
            ]
            if lines:
                self.post(
                    ASN,
                    {
                        "purchase_order": name,
                        "asn_number": f"ASN-{name}-{number}",
                        "expected_arrival": rfc3339(utc_now() + timedelta(days=2)),
                        "lines": lines,
                    },
                )


def main():
    portal = SupplierPortal(arguments(__doc__.splitlines()[0]))
    portal.serve_until_stopped()


if __name__ == "__main__":
    main()
