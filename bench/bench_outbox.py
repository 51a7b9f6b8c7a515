"""Benchmark: what the outbox costs the planner's transaction, against Odoo's own "Send Webhook Notification".

Prints, for this machine, in one run:
 (a) MO confirmation + commit (one transaction each) with 0 and with 2 subscribed endpoints, measured in
     alternating rounds so that both see the same machine load: the overhead ratio (target <= 1.05), the
     extra SQL statements, and where the extra time goes, step by step (a separate, instrumented pass);
 (c) MO confirmation with Odoo's native webhook automation to a receiver answering in 500 ms,
     and what each approach sends for a confirmation that is rolled back.
The dispatcher's throughput is measured by bench_dispatch.py, the latency under load by bench_latency.py.

Run it through `setup/bench` (throw-away cluster and database), or directly:
    PYTHONPATH=. python3 bench/bench_outbox.py -c odoo.conf -d DB [--orders 60] [--rounds 6] [--parts ac]
"""

import argparse
import functools
import os
import statistics
import time
from collections import defaultdict

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

RELEASED = "mfg.production_order.released.v1"
TARGET_RATIO = 1.05
# The steps of emit() timed by the instrumented pass of (a): (model, method).
EMIT_STEPS = [
    ("mrp.production", "_mfg_order_data"),
    ("mfg.integration.message", "_subscribed_routes"),
    ("mfg.integration.event.type", "ensure_valid"),
    ("mfg.integration.message", "_payloads_per_system"),
    ("mfg.integration.message", "_insert_outbound"),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--orders", type=int, default=120, help="confirmations measured per variant (default: 120)")
    parser.add_argument("--rounds", type=int, default=12, help="alternating rounds they are spread over (default: 12)")
    parser.add_argument("--parts", default="ac", help="which measures to run, e.g. 'a' (default: ac)")
    return parser.parse_args()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(label, seconds):
    """Print the median and p95 of ``seconds`` in ms; return the median."""
    millis = [value * 1000 for value in seconds]
    print(f"  {label:<44} median {statistics.median(millis):7.1f} ms   p95 {percentile(millis, 0.95):7.1f} ms")
    return statistics.median(millis)


def seconds_of(measures):
    return [seconds for seconds, _statements, _cpu in measures]


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

    def set_active(self, system_id, active):
        with self.registry.cursor() as cr:
            self.env(cr)["mfg.integration.system"].browse(system_id).active = active

    def drop_system(self, system_id):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            system = env["mfg.integration.system"].with_context(active_test=False).browse(system_id)
            env["mfg.integration.message"].search([("system_id", "=", system_id)]).unlink()
            system.unlink()

    # -- measures ----------------------------------------------------------------

    def confirm_orders(self, product_id, count, rollback=False):
        """[(seconds, SQL statements, CPU seconds of this process)] to confirm+commit each of ``count`` fresh
        MOs, one transaction each."""
        measures = []
        for _index in range(count):
            with self.registry.cursor() as cr:
                env = self.env(cr)
                order = env["mrp.production"].create({"product_id": product_id, "product_qty": 1})
                cr.commit()
                statements = cr.sql_log_count
                cpu = time.process_time()
                started = time.perf_counter()
                order.action_confirm()
                if rollback:
                    cr.rollback()
                else:
                    cr.commit()
                measures.append(
                    (time.perf_counter() - started, cr.sql_log_count - statements, time.process_time() - cpu)
                )
        return measures

    def dispatch_all(self):
        with self.registry.cursor() as cr:
            return self.env(cr)["mfg.integration.message"]._cron_dispatch(batch_size=100, time_budget=600, linger=0)

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


def measure_outbox_overhead(bench, product_id, receiver, orders, rounds):
    print(f"(a) MO confirmation + commit, one transaction each, {rounds} alternating rounds")
    system_id = bench.make_endpoints(receiver.url, 2)
    samples = {False: [], True: []}
    per_round = max(1, orders // rounds)
    for round_index in range(rounds):
        for subscribed in (False, True) if round_index % 2 == 0 else (True, False):
            bench.set_active(system_id, subscribed)
            bench.confirm_orders(product_id, 1)  # refill the caches the switch cleared
            samples[subscribed] += bench.confirm_orders(product_id, per_round)
    baseline = summary("no subscribed endpoint", seconds_of(samples[False]))
    with_outbox = summary("2 subscribed endpoints (outbox)", seconds_of(samples[True]))
    extra = statistics.median(n for _s, n, _c in samples[True]) - statistics.median(n for _s, n, _c in samples[False])
    print(f"  extra SQL statements per confirmation: {extra:g} (+ one cron notification after the commit)")
    # CPU time of this (Odoo) process: far less sensitive to the machine's load than the wall clock.
    cpu = {subscribed: statistics.median(c for _s, _n, c in samples[subscribed]) * 1000 for subscribed in samples}
    print(
        f"  CPU of the Odoo process per confirmation: {cpu[False]:.2f} ms -> {cpu[True]:.2f} ms, "
        f"extra {cpu[True] - cpu[False]:.2f} ms (ratio {cpu[True] / cpu[False]:.3f})"
    )
    print(
        f"  overhead ratio {with_outbox / baseline:.3f}, target <= {TARGET_RATIO}: "
        f"{'met' if with_outbox / baseline <= TARGET_RATIO else 'NOT met'}"
    )
    bench.set_active(system_id, True)
    bench.confirm_orders(product_id, 1)
    profile_emit(bench, product_id, per_round)
    delivered = bench.dispatch_all()
    expected = 2 * (rounds + 1) * (per_round + 1)  # the measured rounds, the instrumented pass, their warm-ups
    print(f"  delivered afterwards by the dispatcher: {delivered} (expected {expected})")
    before = len(receiver.received)
    bench.confirm_orders(product_id, 5, rollback=True)
    bench.dispatch_all()
    print(f"  events sent for 5 rolled-back confirmations: {len(receiver.received) - before}")
    bench.drop_system(system_id)
    return baseline


def profile_emit(bench, product_id, count):
    """Where emit() spends its time in a confirmation with 2 endpoints: a separate pass, each step timed."""
    spent = defaultdict(float)
    originals = []
    for model, method in EMIT_STEPS:
        cls = bench.registry[model]
        original = getattr(cls, method)
        originals.append((cls, method, original))
        setattr(cls, method, _timed(spent, method, original))
    try:
        total = sum(seconds_of(bench.confirm_orders(product_id, count)))
    finally:
        for cls, method, original in originals:
            setattr(cls, method, original)
    steps = ", ".join(f"{method} {spent[method] / count * 1000:.2f}" for _model, method in EMIT_STEPS)
    print(f"  per confirmation (instrumented pass, {total / count * 1000:.1f} ms in all), ms: {steps}")


def _timed(spent, label, function):
    @functools.wraps(function)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started

    return timed


def measure_native_webhook(bench, product_id, receiver, orders, baseline):
    print("(c) Odoo's native 'Send Webhook Notification' automation, receiver answering in 500 ms")
    automation_id = bench.native_automation(receiver.url)
    native = summary("native webhook automation", seconds_of(bench.confirm_orders(product_id, orders)))
    if baseline:
        print(f"  native / no-endpoint baseline: {native / baseline:.2f}x")
    before = len(receiver.received)
    bench.confirm_orders(product_id, 5, rollback=True)
    print(f"  events sent for 5 rolled-back confirmations: {len(receiver.received) - before}")
    bench.drop_automation(automation_id)
    system_id = bench.make_endpoints(receiver.url, 2)
    outbox = summary("outbox, 2 endpoints, same 500 ms receiver", seconds_of(bench.confirm_orders(product_id, orders)))
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
    print(f"Odoo {odoo.release.version}, {args.orders} MOs per variant, load average {os.getloadavg()[0]:.1f}")
    product_id = bench.make_products()
    bench.confirm_orders(product_id, 3)  # warm caches
    baseline = None
    if "a" in args.parts:
        baseline = measure_outbox_overhead(bench, product_id, fast, args.orders, args.rounds)
    if "c" in args.parts:
        measure_native_webhook(bench, product_id, slow, min(args.orders, 30), baseline)
    fast.stop()
    slow.stop()


if __name__ == "__main__":
    main()
