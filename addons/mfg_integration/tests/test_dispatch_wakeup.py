# These tests commit on purpose: the wake-up of the dispatchers happens at commit.
# pylint: disable=invalid-commit
import select
import threading
import time

import psycopg2

from odoo import sql_db

from .. import dispatch_wakeup
from .common import CommittedCase

ORDER = {"reference": "WH/MO/00012", "quantity": 5.0}


class TestDispatchWakeup(CommittedCase):
    def setUp(self):
        super().setUp()
        self.event_type = self.make_event_type()
        self.partner = self.make_partner()

    def subscribe(self, receiver):
        endpoint = self.make_endpoint(self.make_system(), receiver.url, self.event_type)
        self.cr.commit()
        return endpoint

    def emit_in_own_transaction(self, commit=True):
        business = self.new_env()
        business["mfg.integration.message"].emit(self.event_type.code, self.partner, ORDER)
        if commit:
            business.cr.commit()
        else:
            business.cr.rollback()

    def wait_until_a_dispatcher_listens(self):
        for _attempt in range(600):
            self.cr.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query = %s",
                [f"LISTEN {dispatch_wakeup.CHANNEL}"],
            )
            if self.cr.fetchone():
                return
            self.cr.rollback()
            time.sleep(0.1)
        self.fail("the dispatcher never started listening")

    def test_a_waiting_dispatcher_is_woken_by_a_committed_emit_never_by_a_rolled_back_one(self):
        self.subscribe(self.receiver())
        with dispatch_wakeup.Listener(self.cr.dbname) as listener:
            self.assertTrue(listener.wait(0), "the first wait starts listening and lets the caller look again")
            self.emit_in_own_transaction(commit=False)
            self.assertFalse(listener.wait(0.5), "a rolled-back transaction wakes nobody")
            self.emit_in_own_transaction()
            self.assertTrue(listener.wait(60), "woken by the commit, long before the wait's end")

    def test_emit_notifies_the_cron_workers_once_after_its_commit(self):
        self.subscribe(self.receiver())
        # The cron workers of every server listen on the 'postgres' database (ir.cron._notifydb).
        _dbname, params = sql_db.connection_info_for("postgres")
        workers = psycopg2.connect(**params)
        self.addCleanup(workers.close)
        workers.autocommit = True
        with workers.cursor() as cursor:
            cursor.execute("LISTEN cron_trigger")
        business = self.new_env()
        Message = business["mfg.integration.message"]
        Message.emit(self.event_type.code, self.partner, ORDER)
        Message.emit(self.event_type.code, self.partner, ORDER)
        business.cr.commit()
        payloads = []
        while select.select([workers], [], [], 1 if payloads else 60)[0]:
            workers.poll()
            payloads += [notify.payload for notify in workers.notifies]
            workers.notifies.clear()
        self.assertEqual(payloads, [self.cr.dbname], "one notification for the transaction, naming its database")

    def test_a_running_dispatcher_delivers_a_message_committed_while_it_waits(self):
        receiver = self.receiver()
        self.subscribe(receiver)
        delivered = []
        dispatcher = threading.Thread(
            target=lambda: delivered.append(
                self.new_env()["mfg.integration.message"]._cron_dispatch(time_budget=120, linger=60)
            )
        )
        dispatcher.start()
        self.wait_until_a_dispatcher_listens()
        self.emit_in_own_transaction()
        dispatcher.join()
        self.assertEqual(delivered, [1], "delivered by the dispatcher that was running, not by a new cron run")
        self.assertEqual(len(receiver.received), 1)

    def test_a_dispatcher_waiting_for_a_retry_gives_the_cron_thread_to_another_waiting_action(self):
        self.subscribe(self.receiver())
        self.emit_in_own_transaction()
        self.cr.commit()  # a snapshot that sees the emitted message
        self.cr.execute(
            "UPDATE mfg_integration_message SET state = 'retry', next_attempt_at = now() AT TIME ZONE 'UTC' + "
            "interval '40 seconds' WHERE event_type_id = %s RETURNING id, next_attempt_at",
            [self.event_type.id],
        )
        message_id, retry_at = self.cr.fetchone()
        self.env.ref("mfg_integration.ir_cron_process_inbound")._trigger()
        self.cr.commit()
        sent = self.new_env()["mfg.integration.message"]._cron_dispatch(time_budget=120, linger=60)
        self.assertEqual(sent, 0)
        self.cr.execute(
            "SELECT min(call_at) FROM ir_cron_trigger WHERE cron_id = %s AND call_at > now() AT TIME ZONE 'UTC'",
            [self.env.ref("mfg_integration.ir_cron_dispatch").id],
        )
        call_at = self.cr.fetchone()[0]
        self.assertIsNotNone(call_at, "the dispatcher left the retry to a trigger instead of holding the cron thread")
        self.assertAlmostEqual((call_at - retry_at).total_seconds(), 0, delta=2)
        self.cr.execute("SELECT state FROM mfg_integration_message WHERE id = %s", [message_id])
        self.assertEqual(self.cr.fetchone()[0], "retry", "nothing was sent before its retry time")
