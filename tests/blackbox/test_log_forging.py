"""External text cannot forge a server log line (issue 9 item 12): a QMS puts a lot on hold with a
reason carrying a line break and a fake log record; the real server's log keeps it on one line."""

import json
import uuid
from datetime import datetime, timezone

import requests

from simulators.mfgsim.client import cloud_event

API = "/api/mfg/v1"

SETUP = """
import json
from datetime import timedelta
from odoo import fields
tag = {tag!r}
qms = env["mfg.integration.system"].create({{
    "name": "QMS " + tag, "code": "QMS-" + tag, "kind": "qms",
    "inbound_event_type_ids": [(6, 0, env["mfg.integration.event.type"].search(
        [("code", "=", "mfg.quality.hold_requested.v1")]).ids)],
}})
user = qms.action_create_technical_user()
key = env["mfg.integration.api.key.wizard"].create({{
    "system_id": qms.id, "user_id": user.id, "name": "log",
    "expiration_date": fields.Datetime.now() + timedelta(days=1),
}}).action_generate()["context"]["default_key"]
resin = env["product.product"].create({{
    "name": "Resin " + tag, "default_code": "RES-" + tag, "is_storable": True, "tracking": "lot"}})
lot = env["stock.lot"].create({{"name": "R-" + tag, "product_id": resin.id}})
print("RESULT" + json.dumps({{"key": key, "lot_id": lot.id}}))
"""

FORGED = "INFO mfg_blackbox odoo.addons.base.models.res_users: Login successful for login:admin"


def test_a_reason_with_line_breaks_stays_on_one_log_line(odoo_server):
    tag = uuid.uuid4().hex[:6].upper()
    output = odoo_server.odoo_shell(SETUP.format(tag=tag))
    setup = json.loads(output.split("RESULT", 1)[1])
    reason = f"Recall {tag}\n2030-01-05 09:30:00,000 4242 {FORGED}\r"
    data = {"lot": f"R-{tag}", "material": f"RES-{tag}", "reason": reason, "occurred_at": "2030-01-05T09:30:00Z"}
    occurred = datetime(2030, 1, 5, 9, 30, tzinfo=timezone.utc)
    event = cloud_event("mfg.quality.hold_requested.v1", data, "urn:qms:blackbox", occurred, event_id=f"qms-{tag}")
    response = requests.post(
        odoo_server.url(f"{API}/events"),
        json=event,
        headers={"Authorization": f"Bearer {setup['key']}", "Content-Type": "application/cloudevents+json"},
        timeout=120,
    )
    assert response.status_code == 200, response.text

    lines = odoo_server.log_path.read_text(errors="replace").splitlines()
    hold_lines = [line for line in lines if f"Recall {tag}" in line]
    assert len(hold_lines) == 1, hold_lines
    assert "quality hold" in hold_lines[0]
    assert f"Recall {tag}\\n2030-01-05" in hold_lines[0], "the line break is written escaped"
    assert not [line for line in lines if line.startswith("2030-01-05 09:30:00,000 4242")], "no forged line"
