"""Least privilege, tried as the attacker: integration-scoped API keys, the technical user button,
company walls around every configuration record, secrets shown once."""

import json
import xmlrpc.client
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from simulators.mfgsim.client import cloud_event

from ..models.res_users_apikeys import GLOBAL_KEYS_PARAM, MONITORING_SCOPE
from .common import EVENT_TIME, IntegrationFixtures, make_api_key

API = "/api/mfg/v1"
CODE_MAPPING = "mfg.integration.code_mapping.reported.v1"


@tagged("post_install", "-at_install")
class TestIntegrationKeys(HttpCase, IntegrationFixtures):
    def setUp(self):
        super().setUp()
        event_type = self.env.ref("mfg_integration.event_type_code_mapping_reported")
        self.system = self.make_system(inbound_event_type_ids=[(6, 0, event_type.ids)])
        self.user = self.system.action_create_technical_user()
        self.key = make_api_key(self.env, self.user, "mes")
        self.env["product.product"].create({"name": "Widget", "default_code": "WID-1"})

    def post(self, key):
        data = {"kind": "product", "external_code": "ART-1", "odoo_code": "WID-1"}
        event = cloud_event(CODE_MAPPING, data, "urn:mes:1", EVENT_TIME)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/cloudevents+json"}
        return self.url_open(f"{API}/events", data=json.dumps(event), headers=headers)

    def mappings(self):
        return self.env["mfg.integration.code.mapping"].search([("system_id", "=", self.system.id)])

    def jsonrpc(self, service, method, *args):
        body = {"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": args}}
        return self.url_open("/jsonrpc", data=json.dumps(body), headers={"Content-Type": "application/json"}).json()

    def test_scoped_key_opens_the_api(self):
        self.assertEqual(self.post(self.key).status_code, 200)
        self.assertEqual(self.mappings().external_code, "ART-1")

    def test_scoped_key_is_refused_by_xmlrpc_jsonrpc_and_the_web_client(self):
        db = self.env.cr.dbname
        login = self.user.login
        self.assertFalse(self.xmlrpc_common.authenticate(db, login, self.key, {}))
        with self.assertRaises(xmlrpc.client.Fault):
            self.xmlrpc_object.execute_kw(
                db,
                self.user.id,
                self.key,
                "res.partner",
                "search_count",
                [[]],
            )
        answer = self.jsonrpc("object", "execute_kw", db, self.user.id, self.key, "res.partner", "search_read", [])
        self.assertIn("error", answer)
        self.assertIn("AccessDenied", answer["error"]["data"]["name"])
        session = self.url_open(
            "/web/session/authenticate",
            data=json.dumps({"jsonrpc": "2.0", "params": {"db": db, "login": login, "password": self.key}}),
            headers={"Content-Type": "application/json"},
        ).json()
        self.assertIn("error", session)
        self.assertFalse(self.mappings())

    def test_monitoring_key_does_not_open_the_event_api(self):
        self.user.groups_id = [(4, self.env.ref("mfg_integration.group_mfg_integration_user").id)]
        monitoring_key = make_api_key(self.env, self.user, "probe", MONITORING_SCOPE)
        self.assertEqual(self.post(monitoring_key).status_code, 401)
        self.assertFalse(self.mappings())

    def test_global_key_is_refused_unless_the_migration_window_is_open(self):
        # A key made before scoped keys existed (Preferences > New API Key): full RPC access.
        global_key = (
            self.env["res.users.apikeys"]
            .with_user(self.user)
            .sudo()
            ._generate(None, "old", fields.Datetime.now() + timedelta(days=1))
        )
        self.assertEqual(self.post(global_key).status_code, 401)
        self.assertFalse(self.mappings())
        self.env["ir.config_parameter"].set_param(GLOBAL_KEYS_PARAM, "1")
        response = self.post(global_key)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers["Deprecation"], "true")

    def test_revoked_key_is_401(self):
        self.env["res.users.apikeys"].search([("user_id", "=", self.user.id)]).sudo()._remove()
        self.assertEqual(self.post(self.key).status_code, 401)

    def test_key_wizard_refuses_what_it_must(self):
        Wizard = self.env["mfg.integration.api.key.wizard"]
        soon = fields.Datetime.now() + timedelta(days=1)
        too_late = Wizard.create(
            {
                "system_id": self.system.id,
                "user_id": self.user.id,
                "name": "x",
                "expiration_date": fields.Datetime.now() + timedelta(days=400),
            }
        )
        with self.assertRaises(UserError):
            too_late.action_generate()
        admin = self.env.ref("base.user_admin")
        admin.mfg_system_id = self.system
        with self.assertRaises(AccessError):
            Wizard.create(
                {"system_id": self.system.id, "user_id": admin.id, "name": "x", "expiration_date": soon}
            ).action_generate()
        # An Integration User makes only his own monitoring key, never one for the technical user.
        support = new_test_user(self.env, login="support-keys", groups="mfg_integration.group_mfg_integration_user")
        with self.assertRaises(AccessError):
            Wizard.with_user(support).create(
                {"user_id": self.user.id, "scope": MONITORING_SCOPE, "name": "x", "expiration_date": soon}
            ).action_generate()
        with self.assertRaises(AccessError):
            Wizard.with_user(support).create(
                {"system_id": self.system.id, "user_id": self.user.id, "name": "x", "expiration_date": soon}
            ).action_generate()


@tagged("post_install", "-at_install")
class TestTechnicalUser(HttpCase, IntegrationFixtures):
    def test_button_creates_the_user_with_exactly_the_rights_of_the_allowed_types(self):
        code_mapping = self.env.ref("mfg_integration.event_type_code_mapping_reported")
        system = self.make_system(inbound_event_type_ids=[(6, 0, code_mapping.ids)])
        user = system.action_create_technical_user()
        expected = code_mapping.required_group_ids | self.env.ref("base.group_user")
        self.assertEqual(user.groups_id, expected | expected.trans_implied_ids)
        self.assertFalse(user.email)
        self.assertEqual((user.company_id, user.company_ids), (system.company_id, system.company_id))
        self.assertEqual(user.mfg_system_id, system)
        self.assertFalse(system.technical_user_missing)
        # A new allowed type needing more rights: the form names what the existing user lacks.
        needy = self.make_event_type(
            direction="inbound", required_group_ids=[(6, 0, self.env.ref("base.group_partner_manager").ids)]
        )
        system.inbound_event_type_ids = [(4, needy.id)]
        self.assertIn("Contact Creation", system.technical_user_missing)
        with self.assertRaisesRegex(UserError, "Contact Creation"):
            system.action_create_technical_user()

    def test_integration_manager_cannot_choose_the_groups_a_type_requires(self):
        manager = new_test_user(
            self.env, login="mgr-groups", groups="base.group_user,mfg_integration.group_mfg_integration_manager"
        )
        event_type = self.env.ref("mfg_integration.event_type_code_mapping_reported")
        with self.assertRaises(AccessError):
            event_type.with_user(manager).write({"required_group_ids": [(4, self.env.ref("base.group_system").id)]})
        self.assertNotIn(self.env.ref("base.group_system"), event_type.required_group_ids)

    def test_new_endpoint_shows_its_secret_once(self):
        system = self.make_system()
        spec = {"new_secret": {}, "has_secret": {}}
        created = self.env["mfg.integration.endpoint"].web_save(
            {"name": "E", "system_id": system.id, "url": "https://mes.example.com/hook"}, spec
        )[0]
        self.assertTrue(created["new_secret"].startswith("whsec_"))
        endpoint = self.env["mfg.integration.endpoint"].browse(created["id"])
        self.assertEqual(endpoint._signing_secrets(), [created["new_secret"]])
        endpoint.invalidate_recordset()
        self.assertFalse(endpoint.web_read(spec)[0]["new_secret"])


@tagged("post_install", "-at_install")
class TestCompanyWalls(HttpCase, IntegrationFixtures):
    """Company A's Integration Manager against company B's configuration."""

    def setUp(self):
        super().setUp()
        self.company_a = self.env.company
        self.company_b = self.env["res.company"].create({"name": "Plant B"})
        self.manager_a = new_test_user(
            self.env,
            login="mgr-a",
            groups="base.group_user,mfg_integration.group_mfg_integration_manager",
            company_id=self.company_a.id,
            company_ids=[(6, 0, self.company_a.ids)],
        )
        self.event_type = self.make_event_type()
        self.system_a = self.make_system(company_id=self.company_a.id)
        self.system_b = self.make_system(company_id=self.company_b.id)
        self.endpoint_b = self.make_endpoint(self.system_b, "https://b.example.com/hook", self.event_type)
        self.endpoint_a = self.make_endpoint(self.system_a, "https://a.example.com/hook", self.event_type)
        self.mapping_b = self.env["mfg.integration.code.mapping"].create(
            {
                "system_id": self.system_b.id,
                "kind": "uom",
                "external_code": "EA",
                "target_ref": f"uom.uom,{self.env.ref('uom.product_uom_unit').id}",
            }
        )

    def as_a(self, records):
        return records.with_user(self.manager_a)

    def test_reads_nothing_of_company_b(self):
        for records in (self.system_b, self.endpoint_b, self.endpoint_b.subscription_ids, self.mapping_b):
            with self.assertRaises(AccessError, msg=records._name):
                self.as_a(records).read(["display_name"])
        Subscription = self.as_a(self.env["mfg.integration.subscription"])
        self.assertEqual(Subscription.search([]), self.endpoint_a.subscription_ids)

    def test_creates_and_deletes_nothing_on_company_b(self):
        other_type = self.make_event_type()
        with self.assertRaises(AccessError):
            self.as_a(self.env["mfg.integration.endpoint"]).create(
                {"name": "spy", "system_id": self.system_b.id, "url": "https://evil.example.com/"}
            )
        with self.assertRaises(AccessError):
            self.as_a(self.env["mfg.integration.subscription"]).create(
                {"endpoint_id": self.endpoint_b.id, "event_type_id": other_type.id}
            )
        with self.assertRaises(AccessError):
            self.as_a(self.env["mfg.integration.code.mapping"]).create(
                {
                    "system_id": self.system_b.id,
                    "kind": "uom",
                    "external_code": "PCE",
                    "target_ref": f"uom.uom,{self.env.ref('uom.product_uom_unit').id}",
                }
            )
        with self.assertRaises(AccessError):
            self.as_a(self.endpoint_b.subscription_ids).unlink()
        with self.assertRaises(AccessError):
            self.as_a(self.mapping_b).unlink()
        self.assertEqual(len(self.endpoint_b.subscription_ids), 1)
        self.assertEqual(self.env["mfg.integration.endpoint"].search_count([("system_id", "=", self.system_b.id)]), 1)

    def test_cannot_move_its_records_into_company_b(self):
        # Re-parenting its endpoint onto B's system would send B's events to A's URL.
        with self.assertRaises(AccessError):
            self.as_a(self.endpoint_a).write({"system_id": self.system_b.id})
        with self.assertRaises(AccessError):
            self.as_a(self.endpoint_a.subscription_ids).write(
                {"endpoint_id": self.endpoint_b.id, "event_type_id": self.make_event_type().id}
            )
        with self.assertRaises(AccessError):
            self.as_a(self.system_a).write({"company_id": self.company_b.id})
        self.assertEqual(self.endpoint_a.system_id, self.system_a)

    def test_cannot_rotate_company_b_secrets(self):
        secrets = self.endpoint_b._signing_secrets()
        with self.assertRaises(AccessError):
            self.as_a(self.endpoint_b).action_rotate_secret()
        with self.assertRaises(AccessError):
            self.as_a(self.system_b).action_rotate_inbound_secret()
        self.assertEqual(self.endpoint_b._signing_secrets(), secrets)
        self.assertFalse(self.system_b._inbound_secrets())
