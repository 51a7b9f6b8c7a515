from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import AccessError, UserError

from ..models.res_users_apikeys import API_SCOPE, MONITORING_SCOPE

MAX_KEY_DAYS = 366


class MfgIntegrationApiKeyWizard(models.TransientModel):
    """New API key of an integration scope: shown once, with an expiry.

    Scope ``mfg_integration``: for a system's technical user, by an Integration Manager of the
    system's company. Scope ``mfg_integration_monitoring``: an Integration User's own key.
    """

    _name = "mfg.integration.api.key.wizard"
    _description = "New Integration API Key"

    system_id = fields.Many2one("mfg.integration.system", readonly=True)
    user_id = fields.Many2one("res.users", required=True)
    scope = fields.Selection(
        [(API_SCOPE, "Integration API (/api/mfg/v1)"), (MONITORING_SCOPE, "Monitoring (/health, /metrics)")],
        required=True,
        default=API_SCOPE,
        readonly=True,
    )
    name = fields.Char(string="Description", required=True)
    expiration_date = fields.Datetime(required=True, default=lambda self: fields.Datetime.now() + timedelta(days=90))

    def _check_allowed(self):
        self.ensure_one()
        now = fields.Datetime.now()
        if not now < self.expiration_date <= now + timedelta(days=MAX_KEY_DAYS):
            raise UserError(self.env._("A key expires in the future, within %(days)s days.", days=MAX_KEY_DAYS))
        if self.scope == MONITORING_SCOPE:
            own = self.user_id == self.env.user
            if not own or not self.env.user.has_group("mfg_integration.group_mfg_integration_user"):
                raise AccessError(self.env._("A monitoring key is an Integration User's own key."))
            return
        self.env["mfg.integration.message"]._check_manager()
        self.system_id.check_access("write")
        user = self.user_id
        if not self.system_id or user.mfg_system_id != self.system_id or not user.active:
            raise UserError(self.env._("Keys for the API belong to an active technical user of the system."))
        if user._is_admin() or user._is_system():
            raise AccessError(
                self.env._("No key for %(user)s: technical users have no administration rights.", user=user.login)
            )

    def action_generate(self):
        self._check_allowed()
        # sudo: _generate makes a key for env.user, here the key's user; _check_allowed decided the
        # caller may create a key of this scope for this user, with the expiry checked above.
        key = (
            self.env["res.users.apikeys"]
            .with_user(self.user_id)
            .sudo()
            ._generate(self.scope, self.name, self.expiration_date)
        )
        if self.scope == API_SCOPE:
            self.system_id.message_post(
                body=self.env._(
                    "API key %(name)s (%(scope)s) for %(user)s, expiring %(expiry)s, created by %(author)s.",
                    name=self.name,
                    scope=self.scope,
                    user=self.user_id.login,
                    expiry=self.expiration_date,
                    author=self.env.user.name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.users.apikeys.show",
            "name": self.env._("API Key Ready"),
            "views": [(self.env.ref("mfg_integration.mfg_integration_api_key_show_view_form").id, "form")],
            "target": "new",
            "context": {"default_key": key},
        }
