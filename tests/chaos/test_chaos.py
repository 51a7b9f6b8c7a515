"""Chaos scenarios against real Odoo servers: each prints what was committed, delivered once,
delivered twice (always under the same webhook-id), missing, and the time to drain, then
asserts the delivery guarantees the README states. Run with ``setup/chaos``."""

import base64
import os
import time

import pytest

HEALTHY_EVENTS = 400


def mode_name(workers):
    return "prefork" if workers else "threaded"


def new_secret():
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


@pytest.fixture(scope="module")
def healthy_drain():
    return {}


def test_healthy_receiver_with_rolled_back_transactions_interleaved(hub, server_factory, receivers, healthy_drain):
    secret = new_secret()
    receiver = receivers(secret)
    endpoint = hub.endpoint(receiver.url, secret)
    server_factory().start()
    emitted = hub.emit(endpoint, 150, rollback_every=3)
    assert receiver.wait_for(set(emitted["committed"]), 120) is not None
    receiver.report("rolled back interleaved", emitted["committed"], emitted["rolled_back"])

    bulk = hub.emit(endpoint, HEALTHY_EVENTS, per_transaction=HEALTHY_EVENTS)
    drain = receiver.drain_time(bulk["committed"], bulk["at"], 120)
    healthy_drain["seconds"] = drain
    receiver.report("healthy", bulk["committed"], drain=drain)


def test_ten_percent_random_server_errors_drain_within_three_times_the_healthy_time(
    hub, server_factory, receivers, healthy_drain
):
    secret = new_secret()
    receiver = receivers(secret, failure_rate=0.10)
    endpoint = hub.endpoint(receiver.url, secret)
    server_factory().start()
    bulk = hub.emit(endpoint, HEALTHY_EVENTS, per_transaction=HEALTHY_EVENTS)
    drain = receiver.drain_time(bulk["committed"], bulk["at"], 300)
    receiver.report("10% random 5xx", bulk["committed"], drain=drain)
    states = hub.states(endpoint)
    assert set(states) == {"done"}, states
    # Retries wait a backoff (here up to 0.5-2 s); the bound allows it on top of 3x the healthy time.
    assert drain <= 3 * healthy_drain["seconds"] + 2 * 2.0, (drain, healthy_drain)


def test_receiver_down_while_events_are_committed_then_back(hub, server_factory, receivers):
    secret = new_secret()
    receiver = receivers(secret)
    endpoint = hub.endpoint(receiver.url, secret)
    receiver.stop()  # down: connections refused
    server_factory().start()
    emitted = hub.emit(endpoint, 300, per_transaction=5, pace=0.2)  # committed over ~12 s, plus a wait below
    time.sleep(60)
    receiver.start()
    back = time.time()
    drain = receiver.drain_time(emitted["committed"], back, 180)
    receiver.report("receiver down 70 s then back", emitted["committed"], drain=drain)
    assert drain is not None and drain <= 120, f"backlog drained in {drain} s after the receiver came back"


def test_kill_9_of_odoo_mid_dispatch_then_restart(hub, server_factory, receivers):
    secret = new_secret()
    receiver = receivers(secret, delay=0.1)
    endpoint = hub.endpoint(receiver.url, secret, max_parallel=4)
    server = server_factory().start()
    emitted = hub.emit(endpoint, 300, per_transaction=300)
    deadline = time.monotonic() + 60
    while len(receiver.delivered_ids()) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill9()
    killed_at = time.time()
    states = hub.states(endpoint)
    server.start()
    restarted = time.time()
    total = receiver.drain_time(emitted["committed"], killed_at, 180)
    remaining = total - (restarted - killed_at)
    figures = receiver.report("kill -9 mid-dispatch", emitted["committed"], drain=total)
    print(f"CHAOS states at the kill: {states}; drained {remaining:.1f} s after the restart", flush=True)
    assert states.get("in_progress"), "the kill hit a dispatcher with leased messages"
    assert total <= 90 + 60, f"leased messages resent and the backlog drained {total:.0f} s after the kill"
    assert figures["missing"] == 0


@pytest.mark.parametrize("workers", [1, 0], ids=["prefork", "threaded"])
def test_postgresql_crash_restart_mid_dispatch(hub, server_factory, receivers, cluster, workers):
    secret = new_secret()
    receiver = receivers(secret, delay=0.05)
    endpoint = hub.endpoint(receiver.url, secret, max_parallel=2)
    server_factory(workers=workers).start()
    emitted = hub.emit(endpoint, 300, per_transaction=300)
    deadline = time.monotonic() + 60
    while len(receiver.delivered_ids()) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    cluster.restart_immediate()
    receiver.mark()
    restarted = time.monotonic()
    drain = receiver.drain_time(emitted["committed"], emitted["at"], 240)
    resumed = receiver.first_after[1] - restarted if receiver.first_after[1] else None
    receiver.report(f"PostgreSQL restart -m immediate ({mode_name(workers)})", emitted["committed"], drain=drain)
    print(f"CHAOS delivery resumed {resumed} s after the PostgreSQL restart", flush=True)
    assert resumed is not None and resumed <= 60


def test_two_server_processes_dispatch_at_once(hub, server_factory, receivers):
    secret = new_secret()
    receiver = receivers(secret)
    endpoint = hub.endpoint(receiver.url, secret, max_parallel=8)
    one = server_factory().start()
    first = hub.emit(endpoint, 1500, per_transaction=1500)
    single = receiver.drain_time(first["committed"], first["at"], 300)
    server_factory().start()
    time.sleep(5)  # both servers idle and listening
    second = hub.emit(endpoint, 1500, per_transaction=1500)
    double = receiver.drain_time(second["committed"], second["at"], 300)
    receiver.report("two server processes", first["committed"] + second["committed"], drain=single + double)
    ratio = single / double
    print(
        f"CHAOS throughput: one server {1500 / single:.0f} msg/s, two servers {1500 / double:.0f} msg/s, "
        f"ratio {ratio:.2f}",
        flush=True,
    )
    assert one.proc.poll() is None
