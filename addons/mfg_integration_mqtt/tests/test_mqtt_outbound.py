# These tests commit on purpose: the dispatcher delivers committed messages.
# pylint: disable=invalid-commit
import json
import threading
import uuid

from odoo.exceptions import ValidationError

from odoo.addons.mfg_integration.tests.common import assert_test_connection
from odoo.addons.mfg_integration.tests.test_dispatcher import ORDER

from .common import Broker, MqttCase


class TestMqttOutbound(MqttCase):
    def setUp(self):
        super().setUp()
        self.event_type = self.make_event_type()
        self.enterprise = f"acme{uuid.uuid4().hex[:6]}"  # one namespace per test: nothing retained leaks in
        self.partner = self.make_partner()
        self.cr.commit()

    def subscribe(self, **vals):
        vals.setdefault("mqtt_enterprise", self.enterprise)
        vals.setdefault("circuit_cooldown", 1.0)  # a broker back is probed within a second
        vals.setdefault("backoff_base", 10.0)
        vals.setdefault("backoff_cap", 600.0)
        endpoint = self.make_endpoint(
            self.make_system(), "mqtt://set-from-the-broker", self.event_type, transport="mqtt",
            mqtt_broker_id=self.broker.id, **vals,
        )  # fmt: skip
        self.cr.commit()
        return endpoint

    def emit(self, count=1, record=None):
        Message = self.env["mfg.integration.message"]
        messages = Message.browse()
        for index in range(count):
            messages |= Message.emit(self.event_type.code, record or self.partner, dict(ORDER, quantity=index + 1.0))
        self.cr.commit()
        return messages

    def drain(self, messages, rounds=10):
        """Dispatch until every message is delivered, bringing retries forward (their backoff passed);
        the dispatcher waits for the circuit's probe (cooldown 1 s) as it does in production."""
        for _round in range(rounds):
            self.new_env()["mfg.integration.message"]._cron_dispatch(time_budget=30, linger=3)
            messages = self.refresh(messages)
            if set(messages.mapped("state")) == {"done"}:
                return messages
            self.make_due(messages)
        self.fail(f"not all delivered: {messages.mapped('state')}")

    def test_an_event_is_delivered_on_the_brokers_puback_as_a_structured_cloudevent(self):
        endpoint = self.subscribe()
        self.assertEqual(endpoint.url, f"mqtt://{self.broker.host}:{self.broker.port}")
        subscriber = self.subscriber(f"{self.enterprise}/#")
        messages = self.emit(3)
        self.dispatch()
        messages = self.refresh(messages)
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(len(messages.attempt_ids), 3)
        self.assertTrue(
            all(excerpt.startswith("PUBACK") for excerpt in messages.attempt_ids.mapped("response_excerpt"))
        )
        received = subscriber.wait_for(3)
        events = [json.loads(message.payload) for message in received]
        self.assertEqual(sorted(event["id"] for event in events), sorted(messages.mapped("event_id")))
        self.assertEqual({event["type"] for event in events}, {self.event_type.code})
        self.assertEqual(sorted(event["data"]["quantity"] for event in events), [1.0, 2.0, 3.0])
        self.assertEqual({message.properties.ContentType for message in received}, {"application/cloudevents+json"})
        entity, event = self.event_type.code.split(".")[1:3]
        self.assertEqual({message.topic for message in received}, {f"{self.enterprise}/none/none/mfg/{entity}/{event}"})
        self.assertEqual({message.qos for message in received}, {1})

    def test_binary_mode_carries_the_attributes_as_mqtt5_user_properties(self):
        self.subscribe(mqtt_binary_mode=True)
        subscriber = self.subscriber(f"{self.enterprise}/#")
        (message,) = self.emit(1)
        self.dispatch()
        (received,) = subscriber.wait_for(1)
        self.assertEqual(json.loads(received.payload), dict(ORDER, quantity=1.0))
        attributes = dict(received.properties.UserProperty)
        self.assertEqual(attributes["id"], message.event_id)
        self.assertEqual(attributes["type"], self.event_type.code)
        self.assertEqual(attributes["specversion"], "1.0")
        self.assertEqual(received.properties.ContentType, "application/json")

    def test_an_mqtt_311_connection_delivers_in_structured_mode(self):
        self.broker.protocol = "3.1.1"
        self.subscribe(mqtt_binary_mode=True)  # binary mode needs MQTT 5 user properties: structured instead
        subscriber = self.subscriber(f"{self.enterprise}/#")
        (message,) = self.emit(1)
        self.dispatch()
        self.assertEqual(self.refresh(message).state, "done")
        (received,) = subscriber.wait_for(1)
        self.assertEqual(json.loads(received.payload)["id"], message.event_id)

    def test_the_topic_names_the_plant_and_area_and_a_wildcard_subscriber_gets_only_its_plant(self):
        self.subscribe()
        self.south_code = f"S{uuid.uuid4().hex[:4]}"
        warehouses = self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)
        warehouses |= self.env["stock.warehouse"].create({"name": f"South {self.enterprise}", "code": self.south_code})
        pickings = self.env["stock.picking"].browse()
        for warehouse in warehouses:
            pickings |= self.env["stock.picking"].create(
                {
                    "picking_type_id": warehouse.out_type_id.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                }
            )
        self.cr.commit()
        self.addCleanup(self._remove_records, pickings, warehouses[1:])
        south = self.subscriber(f"{self.enterprise}/{self.south_code}/+/mfg/#")
        everything = self.subscriber(f"{self.enterprise}/#")
        north_messages = self.emit(2, pickings[0])
        south_messages = self.emit(3, pickings[1])
        self.dispatch()
        self.assertEqual(sorted(event["id"] for event in south.events(3)), sorted(south_messages.mapped("event_id")))
        everything.wait_for(5)
        entity, event = self.event_type.code.split(".")[1:3]
        self.assertEqual(
            {message.topic for message in everything.messages},
            {
                f"{self.enterprise}/{warehouses[0].code}/{warehouses[0].out_type_id.sequence_code}/mfg/{entity}/{event}",
                f"{self.enterprise}/{self.south_code}/{warehouses[1].out_type_id.sequence_code}/mfg/{entity}/{event}",
            },
        )
        self.assertEqual(len(south.messages), 3, "the south plant's subscriber got no other plant's event")
        self.assertEqual(len(north_messages), 2)

    def test_an_event_whose_record_was_deleted_since_names_no_plant_beside_one_that_still_exists(self):
        self.subscribe()
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)
        values = {
            "picking_type_id": warehouse.out_type_id.id,
            "location_id": warehouse.lot_stock_id.id,
            "location_dest_id": self.env.ref("stock.stock_location_customers").id,
        }
        pickings = self.env["stock.picking"].create(
            [dict(values, name=f"{self.enterprise}/{index}") for index in range(2)]
        )
        self.cr.commit()
        self.addCleanup(self._remove_records, pickings[:1], warehouse.browse())
        subscriber = self.subscriber(f"{self.enterprise}/#")
        kept, deleted = self.emit(1, pickings[0]), self.emit(1, pickings[1])
        pickings[1].unlink()
        self.cr.commit()
        self.dispatch()  # both in one claimed batch
        topics = {json.loads(message.payload)["id"]: message.topic for message in subscriber.wait_for(2)}
        entity, event = self.event_type.code.split(".")[1:3]
        area = warehouse.out_type_id.sequence_code
        self.assertEqual(
            topics,
            {
                kept.event_id: f"{self.enterprise}/{warehouse.code}/{area}/mfg/{entity}/{event}",
                deleted.event_id: f"{self.enterprise}/none/none/mfg/{entity}/{event}",
            },
        )

    def _remove_records(self, pickings, warehouses):
        env = self.new_env()
        env["stock.picking"].browse(pickings.ids).unlink()
        warehouse_records = env["stock.warehouse"].browse(warehouses.ids)
        warehouse_records.write({"active": False})
        env.cr.commit()

    def test_a_late_subscriber_reads_each_records_latest_event_on_its_retained_state_topic(self):
        self.subscribe(mqtt_state_topic_template="{enterprise}/state/{entity}/{subject}")
        other = self.make_partner("Other record")
        self.emit(2, self.partner)
        last = self.emit(1, other)
        self.drain(last)
        latest = self.emit(1, self.partner)
        self.dispatch()
        late = self.subscriber(f"{self.enterprise}/state/#")
        events = {message.topic: json.loads(message.payload) for message in late.wait_for(2)}
        self.assertEqual({message.retain for message in late.messages}, {True})
        self.assertEqual(sorted(event["id"] for event in events.values()), sorted((latest | last).mapped("event_id")))

    def test_broker_down_while_events_are_committed_then_all_arrive_when_it_is_back(self):
        broker = Broker()
        self.subscribe()
        broker.stop()
        self.addCleanup(lambda: broker.pid_file.exists() or broker.start())
        messages = self.emit(20)
        self.dispatch()
        messages = self.refresh(messages)
        self.assertEqual(set(messages.mapped("state")), {"retry"})
        self.assertTrue(messages.attempt_ids)
        for excerpt in messages.attempt_ids.mapped("response_excerpt"):
            self.assertIn("Broker unreachable", excerpt)
        broker.start()
        subscriber = self.subscriber(f"{self.enterprise}/#")
        self.make_due(messages)
        self.drain(messages)
        received = {json.loads(message.payload)["id"] for message in subscriber.wait_for(20)}
        self.assertEqual(received, set(messages.mapped("event_id")), "each CloudEvents id at least once")

    def test_a_broker_restart_mid_flow_loses_nothing(self):
        broker = Broker()
        self.subscribe(max_parallel=2)
        subscriber = self.subscriber(f"{self.enterprise}/#", session=True)
        messages = self.emit(150)
        dispatcher = threading.Thread(target=self.dispatch)
        dispatcher.start()
        subscriber.wait_for(10)  # the flow is under way
        broker.stop()
        broker.start()
        dispatcher.join()
        self.make_due(messages)
        self.drain(messages)
        received = {json.loads(message.payload)["id"] for message in subscriber.wait_for(150, timeout=60)}
        self.assertEqual(received, set(messages.mapped("event_id")), "each CloudEvents id at least once")

    def test_a_topic_template_with_an_unknown_placeholder_or_a_wildcard_is_refused_at_save(self):
        for template in ("{enterprise}/{plant}/{shift}/mfg", "{enterprise}/+/mfg/{event}", "$SYS/{event}", "fixed"):
            with self.assertRaises(ValidationError, msg=template):
                self.subscribe(mqtt_topic_template=template)
            self.cr.rollback()

    def test_the_brokers_password_is_stored_encrypted_and_never_shown_again(self):
        self.broker.password = "s3cret-uns"
        self.cr.commit()
        self.broker.invalidate_recordset()
        self.assertFalse(self.broker.password)
        self.assertTrue(self.broker.has_password)
        stored = self.broker.sudo().password_encrypted
        self.assertTrue(stored)
        self.assertNotIn("s3cret-uns", stored)
        self.assertEqual(self.broker._broker_settings().password, "s3cret-uns")
        self.assertNotIn("s3cret-uns", repr(self.broker._broker_settings()))

    def test_test_connection_tells_whether_the_broker_answers(self):
        assert_test_connection(self, self.broker, "ConnectionRefusedError")
