from datetime import timedelta

from odoo import fields

from .common import IntegrationCase

ORDER = {"reference": "WH/MO/00012", "quantity": 5.0}


class TestRetentionPurge(IntegrationCase):
    """The retention purge deletes finished messages older than the retention, batch by batch,
    and nothing a user or the dispatcher still needs."""

    def setUp(self):
        super().setUp()
        self.Message = self.env["mfg.integration.message"]
        self.event_type = self.make_event_type()
        self.inbound_type = self.make_event_type(direction="inbound")
        self.system = self.make_system()
        self.make_endpoint(self.system, "http://127.0.0.1:9/hook", self.event_type)
        self.partner = self.make_partner()
        self.env["ir.config_parameter"].set_param("mfg_integration.retention_days", 30)

    def outbound(self, state, days_old=31):
        message = self.Message.emit(self.event_type.code, self.partner, ORDER)
        message.write({"state": state})
        return self.age(message, days_old)

    def inbound(self, state, days_old=31, **vals):
        # sudo: inbound messages are created and written only by the inbound pipeline.
        message = self.Message.sudo().create(
            dict(
                direction="inbound",
                event_type_id=self.inbound_type.id,
                system_id=self.system.id,
                payload="{}",
                state=state,
                **vals,
            )
        )
        return self.age(message, days_old)

    def age(self, messages, days):
        messages.flush_recordset()
        self.env.cr.execute(
            "UPDATE mfg_integration_message SET create_date = %s WHERE id = ANY(%s)",
            [fields.Datetime.now() - timedelta(days=days), messages.ids],
        )
        messages.invalidate_recordset()
        return messages.with_env(self.env)

    def purge_all(self, batch_size=5000):
        """Calls the purge as its cron does, until a batch comes back short; returns the batch sizes."""
        batches = []
        while not batches or batches[-1] == batch_size:
            batches.append(self.Message._cron_purge(batch_size=batch_size))
        return batches

    def test_old_delivered_and_ignored_messages_go_with_their_attempts_and_chatter(self):
        delivered = self.outbound("done")
        cancelled = self.outbound("cancelled")
        processed = self.inbound("done")
        ignored = self.inbound("cancelled")
        attempt = self.env["mfg.integration.attempt"].create({"message_id": delivered.id, "http_status": 200})
        delivered.message_post(body="Replayed by support.")
        chatter = delivered.message_ids
        recent = self.outbound("done", days_old=29)

        self.assertEqual(self.purge_all(), [4])

        self.assertFalse((delivered | cancelled | processed | ignored).exists())
        self.assertFalse(attempt.exists(), "attempts go with their message")
        self.assertFalse(chatter.exists(), "so does the message's chatter")
        self.assertTrue(recent.exists(), "younger than the retention")

    def test_open_failed_dead_and_waiting_messages_stay_whatever_their_age(self):
        kept = self.outbound("pending") | self.outbound("in_progress") | self.outbound("retry") | self.outbound("dead")
        kept |= self.inbound("dead") | self.inbound("waiting") | self.inbound("retry")

        self.assertEqual(self.purge_all(), [0])

        self.assertEqual(len(kept.exists()), 7)

    def test_messages_still_referenced_stay_until_their_referrer_goes(self):
        blocker = self.inbound("done", days_old=40)
        waiting = self.inbound("waiting", days_old=1, waits_for_id=blocker.id)
        original = self.outbound("done", days_old=40)
        replay = original.copy({"event_id": original.event_id, "replay_of_id": original.id, "state": "done"})
        self.age(replay, 35)

        self.assertEqual(self.purge_all(), [1], "only the replay: the others are referred to")
        self.assertFalse(replay.exists())
        self.assertTrue(original.exists())
        self.assertTrue(blocker.exists(), "a waiting message still needs its blocker")

        self.assertEqual(self.purge_all(), [1], "the original, now that its replay is gone")
        self.assertFalse(original.exists())
        self.assertTrue(blocker.exists())
        self.assertTrue(waiting.exists())

    def test_purge_goes_in_bounded_batches_reporting_its_progress_to_the_cron(self):
        old = self.outbound("done") | self.outbound("done") | self.outbound("done") | self.outbound("cancelled")
        old |= self.outbound("done")
        cron = self.env.ref("mfg_integration.ir_cron_purge")
        progress = cron._add_progress()[1]

        purged = self.Message.with_context(ir_cron_progress_id=progress.id)._cron_purge(batch_size=2)

        self.assertEqual(purged, 2)
        self.assertEqual(len(old.exists()), 3, "one batch per call: one short transaction under the cron")
        self.assertEqual((progress.done, progress.remaining), (2, 2), "a full batch: the cron calls again")
        self.assertEqual(self.purge_all(batch_size=2), [2, 1])
        self.assertFalse(old.exists())

    def test_retention_is_a_setting(self):
        settings = self.env["res.config.settings"].create({"mfg_retention_days": 10})
        settings.execute()
        self.assertEqual(self.env["ir.config_parameter"].get_param("mfg_integration.retention_days"), "10")
        older, younger = self.outbound("done", days_old=11), self.outbound("done", days_old=9)

        self.purge_all()

        self.assertFalse(older.exists())
        self.assertTrue(younger.exists())
