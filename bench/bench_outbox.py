"""Benchmark: the outbox and dispatcher against Odoo's own "Send Webhook Notification".

Prints, for this machine, in one run:
 (a) MO confirmation (one transaction each) with 0 and with 2 subscribed endpoints: the overhead ratio;
 (b) dispatcher deliveries per second to a local receiver, beside a bare requests.Session POST loop;
 (c) MO confirmation with Odoo's native webhook automation to a receiver answering in 500 ms,
     and what each approach sends for a confirmation that is rolled back.

Run it through `setup/bench` (throw-away cluster and database), or directly:
    python3 bench/bench_outbox.py -c odoo.conf -d DB [--orders 30] [--messages 500]
"""

import argparse
import statistics
import time

import requests

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

RELEASED = "mfg.production_order.released.v1"
PING = "mfg.integration.ping.v1"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--orders", type=int, default=30)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--parts", default="abc", help="which measures to run, e.g. 'b' (default: abc)")
    return parser.parse_args()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(label, seconds):
    millis = [value * 1000 for value in seconds]
    print(f"  {label:<44} median {statistics.median(millis):7.1f} ms   p95 {percentile(millis, 0.95):7.1f} ms")
    return statistics.median(millis)


class Bench:
    def __init__(self, registry):
        self.registry = registry

    def env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    # -- fixtures --------------------------------------------------------------

    def make_products(self):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            Product = env["product.product"]
            finished = Product.create({"name": "Bench finished", "default_code": "BENCH-FG", "is_storable": True})
            parts = Product.create(
                [{"name": f"Bench part {i}", "default_code": f"BENCH-P{i}", "is_storable": True} for i in (1, 2)]
            )
            env["mrp.bom"].create(
                {
                    "product_tmpl_id": finished.product_tmpl_id.id,
                    "product_qty": 1,
                    "bom_line_ids": [(0, 0, {"product_id": p.id, "product_qty": 2}) for p in parts],
                }
            )
            return finished.id

    def make_endpoints(self, url, count, event_type_code=RELEASED):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            event_type = env["mfg.integration.event.type"]._get_by_code(event_type_code)
            system = env["mfg.integration.system"].create({"name": "Bench MES", "code": f"BENCH-{time.time_ns()}"})
            env["mfg.integration.endpoint"].create(
                [
                    {
                        "name": f"bench {i}",
                        "system_id": system.id,
                        "url": url,
                        "subscription_ids": [(0, 0, {"event_type_id": event_type.id})],
                    }
                    for i in range(count)
                ]
            )
            return system.id

    def drop_system(self, system_id):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            system = env["mfg.integration.system"].browse(system_id)
            env["mfg.integration.message"].search([("system_id", "=", system_id)]).unlink()
            system.unlink()

    # -- measures ----------------------------------------------------------------

    def confirm_orders(self, product_id, count, rollback=False):
        """Seconds to confirm+commit each of ``count`` fresh MOs, one transaction each."""
        durations = []
        for _index in range(count):
            with self.registry.cursor() as cr:
                env = self.env(cr)
                order = env["mrp.production"].create({"product_id": product_id, "product_qty": 1})
                cr.commit()
                started = time.perf_counter()
                order.action_confirm()
                if rollback:
                    cr.rollback()
                else:
                    cr.commit()
                durations.append(time.perf_counter() - started)
        return durations

    def dispatch_all(self):
        with self.registry.cursor() as cr:
            return self.env(cr)["mfg.integration.message"]._cron_dispatch(batch_size=100, time_budget=600)

    def emit_pings(self, system_id, count):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            endpoint = env["mfg.integration.system"].browse(system_id).endpoint_ids[:1]
            Message = env["mfg.integration.message"]
            for index in range(count):
                Message.emit(
                    PING,
                    endpoint,
                    {"endpoint": endpoint.name, "system": "bench", "message": f"ping {index}"},
                    endpoints=endpoint,
                )
            return endpoint.url

    def native_automation(self, url):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            module = env["ir.module.module"].search([("name", "=", "base_automation")])
            if module.state != "installed":
                module.button_immediate_install()
        # The install reloaded the registry: use the new one from here on.
        self.registry = Registry(self.registry.db_name)
        with self.registry.cursor() as cr:
            env = self.env(cr)
            model = env["ir.model"]._get("mrp.production")
            state_field = env["ir.model.fields"]._get("mrp.production", "state")
            confirmed = env["ir.model.fields.selection"].search(
                [("field_id", "=", state_field.id), ("value", "=", "confirmed")]
            )
            automation = env["base.automation"].create(
                {
                    "name": "Bench native webhook",
                    "model_id": model.id,
                    "trigger": "on_state_set",
                    "trigger_field_ids": [(6, 0, state_field.ids)],
                    "trg_selection_field_id": confirmed.id,
                }
            )
            env["ir.actions.server"].create(
                {
                    "name": "Bench send webhook",
                    "model_id": model.id,
                    "base_automation_id": automation.id,
                    "state": "webhook",
                    "webhook_url": url,
                }
            )
            return automation.id

    def drop_automation(self, automation_id):
        with self.registry.cursor() as cr:
            self.env(cr)["base.automation"].browse(automation_id).unlink()


def bare_loop(url, count, body):
    session = requests.Session()
    started = time.perf_counter()
    for _index in range(count):
        session.post(url, data=body, headers={"Content-Type": "application/cloudevents+json"}, timeout=10)
    return time.perf_counter() - started


def measure_outbox_overhead(bench, product_id, receiver, orders):
    print("(a) MO confirmation, one transaction each")
    baseline = summary("no subscribed endpoint", bench.confirm_orders(product_id, orders))
    system_id = bench.make_endpoints(receiver.url, 2)
    with_outbox = summary("2 subscribed endpoints (outbox)", bench.confirm_orders(product_id, orders))
    print(f"  overhead ratio (target <= 1.10): {with_outbox / baseline:.3f}")
    queued = bench.dispatch_all()
    print(f"  delivered afterwards by the dispatcher: {queued} (expected {2 * orders})")
    before = len(receiver.received)
    bench.confirm_orders(product_id, 5, rollback=True)
    bench.dispatch_all()
    print(f"  events sent for 5 rolled-back confirmations: {len(receiver.received) - before}")
    bench.drop_system(system_id)
    return baseline


def measure_dispatcher_throughput(bench, receiver, messages):
    print("(b) dispatcher throughput to a local receiver")
    system_id = bench.make_endpoints(receiver.url, 1, PING)
    url = bench.emit_pings(system_id, messages)
    started = time.perf_counter()
    sent = bench.dispatch_all()
    dispatcher_rate = sent / (time.perf_counter() - started)
    body = receiver.received[-1].body
    bare_rate = messages / bare_loop(url, messages, body)
    print(f"  dispatcher: {dispatcher_rate:8.1f} msg/s ({sent} delivered, signed, recorded, committed each)")
    print(f"  bare requests.Session loop: {bare_rate:8.1f} msg/s")
    print(f"  ratio (target >= 0.5): {dispatcher_rate / bare_rate:.3f}")
    bench.drop_system(system_id)


def measure_native_webhook(bench, product_id, receiver, orders, baseline):
    print("(c) Odoo's native 'Send Webhook Notification' automation, receiver answering in 500 ms")
    automation_id = bench.native_automation(receiver.url)
    native = summary("native webhook automation", bench.confirm_orders(product_id, orders))
    if baseline:
        print(f"  native / no-endpoint baseline: {native / baseline:.2f}x")
    before = len(receiver.received)
    bench.confirm_orders(product_id, 5, rollback=True)
    print(f"  events sent for 5 rolled-back confirmations: {len(receiver.received) - before}")
    bench.drop_automation(automation_id)
    system_id = bench.make_endpoints(receiver.url, 2)
    outbox = summary("outbox, 2 endpoints, same 500 ms receiver", bench.confirm_orders(product_id, orders))
    if baseline:
        print(f"  outbox / no-endpoint baseline: {outbox / baseline:.2f}x")
    bench.drop_system(system_id)


def main():
    args = parse_args()
    odoo.tools.config.parse_config(["-c", args.config])
    from simulators.mfgsim.scripted_receiver import Answer, Receiver

    bench = Bench(Registry(args.database))
    fast = Receiver().start()
    slow = Receiver(default=Answer(200, delay=0.5)).start()
    print(f"Odoo {odoo.release.version}, {args.orders} MOs, {args.messages} messages")
    baseline = None
    product_id = None
    if "a" in args.parts or "c" in args.parts:
        product_id = bench.make_products()
        bench.confirm_orders(product_id, 3)  # warm caches
    if "a" in args.parts:
        baseline = measure_outbox_overhead(bench, product_id, fast, args.orders)
    if "b" in args.parts:
        measure_dispatcher_throughput(bench, fast, args.messages)
    if "c" in args.parts:
        measure_native_webhook(bench, product_id, slow, args.orders, baseline)
    fast.stop()
    slow.stop()


if __name__ == "__main__":
    main()
