from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..lib import signing
from .secret_store import secret_box


class MfgIntegrationSystem(models.Model):
    """An external system around the factory: MES, WMS, supplier portal, QMS..."""

    _name = "mfg.integration.system"
    _description = "External System"
    # Routing configuration: archiving a system stops emit() at once (see the mixin).
    _inherit = ["mail.thread", "mfg.integration.routing.mixin", "mfg.integration.company.mixin"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Short unique code, used in event sources and code mappings.",
    )
    kind = fields.Selection(
        [
            ("mes", "MES / shop floor"),
            ("wms", "WMS / 3PL"),
            ("supplier", "Supplier portal / EDI"),
            ("qms", "Quality system"),
            ("other", "Other"),
        ],
        required=True,
        default="mes",
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    active = fields.Boolean(default=True)
    responsible_user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        help="Receives the activities raised for this system's failures.",
    )
    user_ids = fields.One2many(
        "res.users",
        "mfg_system_id",
        string="Technical Users",
        help="Users whose API keys authenticate this system on the inbound API.",
    )
    endpoint_ids = fields.One2many("mfg.integration.endpoint", "system_id", string="Endpoints")
    inbound_event_type_ids = fields.Many2many(
        "mfg.integration.event.type",
        string="Allowed Inbound Events",
        domain=[("direction", "=", "inbound")],
        help="Inbound event types this system may send; any other type is refused (403).",
    )
    async_processing = fields.Boolean(
        help="Apply inbound events from a cron job and answer 202 at once.",
    )
    rate_limit_per_minute = fields.Integer(
        default=600,
        help="Inbound requests accepted per minute; more get 429 with Retry-After. 0: no limit.",
    )
    max_body_bytes = fields.Integer(
        string="Max Body Size (bytes)",
        default=1024 * 1024,
        help="Inbound request bodies larger than this are refused (413).",
    )
    require_inbound_signature = fields.Boolean(
        help="Inbound requests must carry a valid Standard Webhooks signature.",
    )
    inbound_secret_encrypted = fields.Text(copy=False, groups="base.group_system")
    message_count = fields.Integer(compute="_compute_message_count")
    required_group_ids = fields.Many2many(
        "res.groups",
        compute="_compute_technical_user_rights",
        string="Rights Needed",
        help="Groups the technical user needs for the allowed inbound events.",
    )
    technical_user_missing = fields.Char(
        compute="_compute_technical_user_rights",
        string="Missing Rights",
        help="Groups a linked technical user lacks for the allowed inbound events.",
    )

    _sql_constraints = [
        ("code_company_unique", "unique(code, company_id)", "A system code must be unique per company."),
    ]

    @api.constrains("rate_limit_per_minute", "max_body_bytes")
    def _check_limits(self):
        for system in self:
            if system.rate_limit_per_minute < 0 or system.max_body_bytes <= 0:
                raise ValidationError(self.env._("Rate limit must be positive or zero and body size positive."))

    def _compute_message_count(self):
        counts = dict(
            self.env["mfg.integration.message"]._read_group([("system_id", "in", self.ids)], ["system_id"], ["__count"])
        )
        for system in self:
            system.message_count = counts.get(system, 0)

    @api.depends("inbound_event_type_ids", "user_ids.groups_id")
    def _compute_technical_user_rights(self):
        for system in self:
            required = system.inbound_event_type_ids.required_group_ids
            system.required_group_ids = required
            missing = [
                self.env._("%(user)s lacks %(groups)s", user=user.name, groups=", ".join(lacking.mapped("full_name")))
                for user in system.user_ids
                if (lacking := required - user.groups_id)
            ]
            system.technical_user_missing = "; ".join(missing) or False

    def _technical_user_groups(self):
        """The groups of the allowed inbound types (plus internal user), refusing administrative ones."""
        self.ensure_one()
        groups = self.inbound_event_type_ids.required_group_ids | self.env.ref("base.group_user")
        privileged = self.env.ref("base.group_erp_manager") | self.env.ref("base.group_system")
        if groups.trans_implied_ids & privileged or groups & privileged:
            raise AccessError(self.env._("A technical user never gets administration rights."))
        return groups

    def action_create_technical_user(self):
        """Create the system's technical user with exactly the rights its allowed inbound events need."""
        self.ensure_one()
        self.env["mfg.integration.message"]._check_manager()
        self.check_access("write")
        if self.user_ids:
            raise UserError(
                self.env._(
                    "%(system)s already has a technical user; missing rights: %(missing)s",
                    system=self.name,
                    missing=self.technical_user_missing or self.env._("none"),
                )
            )
        groups = self._technical_user_groups()
        # sudo: Integration Managers cannot create users. The user gets only the groups that Settings
        # administrators declared on the allowed event types (administration groups refused above),
        # one company (the system's), no password and no e-mail: it can only use API keys.
        user = (
            self.env["res.users"]
            .sudo()
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": self.env._("%(system)s (technical user)", system=self.name),
                    "login": f"mfg-{self.code}-{self.id}".lower(),
                    "company_id": self.company_id.id,
                    "company_ids": [(6, 0, self.company_id.ids)],
                    "groups_id": [(6, 0, groups.ids)],
                    "mfg_system_id": self.id,
                }
            )
        )
        self.message_post(
            body=self.env._(
                "Technical user %(login)s created by %(user)s with %(groups)s.",
                login=user.login,
                user=self.env.user.name,
                groups=", ".join(groups.mapped("full_name")),
            )
        )
        return user

    def action_new_api_key(self):
        """Open the New API Key wizard for the system's technical user."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New API Key"),
            "res_model": "mfg.integration.api.key.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_system_id": self.id, "default_user_id": self.user_ids[:1].id},
        }

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mfg_integration.mfg_integration_message_action")
        action["domain"] = [("system_id", "=", self.id)]
        action["context"] = {}
        return action

    # -- chatter ---------------------------------------------------------------

    def _post_on(self, record, body, activity=None):
        """Note in ``record``'s chatter what this system did (``body``, HTML), headed by the system's
        name, and give a person a to-do when ``activity`` (``activity_schedule`` keywords: user_id,
        summary, note) is given. OdooBot writes both, never the technical user: a machine account has
        no mailbox, and Odoo refuses to post or notify in the name of an author without an e-mail."""
        self.ensure_one()
        # with_user(SUPERUSER_ID): OdooBot authors the note and the assignment e-mail. Safe: the
        # handler already changed ``record`` with the technical user's own rights, and only this
        # note and activity, built by our code, are written with OdooBot's.
        as_bot = record.with_user(SUPERUSER_ID)
        # sudo: only the system's name, for the header; the technical user may not read systems.
        header = Markup("<p><b>%s</b></p>") % self.env._("%(system)s reports:", system=self.sudo().display_name)
        as_bot.message_post(body=header + body, subtype_xmlid="mail.mt_note")
        if activity:
            as_bot.activity_schedule("mail.mail_activity_data_todo", **activity)

    # -- inbound signatures ----------------------------------------------------

    @api.model
    def _mfg_broker_consumers(self):
        """The broker consumers to keep running (``lib.consumer.Consumer``): broker addons add
        theirs with super(); the runner is ``mfg.integration.broker.consumer``."""
        return []

    @api.model
    def _systems_receiving_from(self, broker_field):
        """Every company's systems that receive from an active broker through ``broker_field`` (the
        runner and /health build their consumers)."""
        # sudo: the runner (a scheduled action) and /health list every subscribing system; nothing is shown.
        return self.sudo().search([(broker_field, "!=", False), (f"{broker_field}.active", "=", True)])

    def _check_inbound_broker_company(self, broker_field):
        """A system receives only from a broker of its own company."""
        for system in self.filtered(broker_field):
            if system[broker_field].company_id != system.company_id:
                raise ValidationError(
                    self.env._(
                        "The broker %(broker)s must belong to the system's company.", broker=system[broker_field].name
                    )
                )

    def _broker_technical_user(self):
        """The active technical user of this system that its broker messages are received as."""
        self.ensure_one()
        # sudo: which users are linked to the system is read by the runner, not shown.
        users = self.sudo().with_context(active_test=False).user_ids
        return users.filtered(lambda user: user.active and self.company_id in user.company_ids)[:1]

    def _inbound_secrets(self):
        """Decrypted secrets to verify inbound Standard Webhooks signatures with."""
        self.ensure_one()
        # sudo: the encrypted secret is restricted to admins; it is decrypted here
        # only to verify a request's signature and never returned.
        encrypted = self.sudo().inbound_secret_encrypted
        return [secret_box(self.env).decrypt(encrypted)] if encrypted else []

    def _set_inbound_secret(self, secret):
        """Store a new inbound signing secret (encrypted at rest)."""
        self.ensure_one()
        self.env["mfg.integration.message"]._check_manager()
        # sudo: the field is restricted to admins; integration managers set it only here.
        self.sudo().inbound_secret_encrypted = secret_box(self.env).encrypt(secret)

    def action_rotate_inbound_secret(self):
        """Create the secret this system signs its inbound requests with, and show it once."""
        self.ensure_one()
        self.check_access("write")  # the sudo write below bypasses record rules: check the company here
        secret = signing.generate_secret()
        self._set_inbound_secret(secret)
        self.message_post(body=self.env._("Inbound signing secret rotated by %(user)s.", user=self.env.user.name))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("New inbound signing secret (shown only once)"),
                "message": secret,
                "sticky": True,
                "type": "warning",
            },
        }
