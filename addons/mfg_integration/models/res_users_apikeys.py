"""API keys scoped to the integration: they open /api/mfg/v1 and nothing else.

Odoo's XML-RPC, JSON-RPC and ``auth='bearer'`` routes only accept keys of scope
NULL (global) or ``rpc``, and the web client never accepts a key: a key of scope
``mfg_integration`` or ``mfg_integration_monitoring`` is refused everywhere else.
"""

from odoo import models
from odoo.tools import SQL

from odoo.addons.base.models.res_users import INDEX_SIZE, KEY_CRYPT_CONTEXT

API_SCOPE = "mfg_integration"
MONITORING_SCOPE = "mfg_integration_monitoring"
SCOPES = (API_SCOPE, MONITORING_SCOPE)
# System parameter: while it is set, global (unscoped) keys of technical users still open
# /api/mfg/v1 (migration window of installations created before scoped keys).
GLOBAL_KEYS_PARAM = "mfg_integration.accept_global_api_keys"


class ResUsersApikeys(models.Model):
    _inherit = "res.users.apikeys"

    def _mfg_check_credentials(self, key, scopes):
        """(user id, scope) of the active, unexpired key ``key`` of one of ``scopes``, else (None, None).

        Global keys (scope NULL) match with scope None; the caller decides whether it accepts them.
        """
        self.env.cr.execute(
            SQL(
                """
                SELECT k.user_id, k.key, k.scope
                  FROM res_users_apikeys k JOIN res_users u ON u.id = k.user_id
                 WHERE u.active AND k.index = %s AND (k.scope = ANY(%s) OR k.scope IS NULL)
                   AND (k.expiration_date IS NULL OR k.expiration_date >= now() AT TIME ZONE 'utc')
                 ORDER BY k.scope IS NULL
                """,
                key[:INDEX_SIZE],
                list(scopes),
            )
        )
        for user_id, hashed, scope in self.env.cr.fetchall():
            if KEY_CRYPT_CONTEXT.verify(key, hashed):
                return user_id, scope
        return None, None
