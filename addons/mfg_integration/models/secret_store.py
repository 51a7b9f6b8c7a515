"""Where the key that encrypts webhook secrets at rest lives.

The key is kept outside the database (option ``mfg_integration_key_file`` of
the Odoo configuration, else a per-database file in Odoo's data directory),
so that a database dump alone does not reveal any secret.
"""

import logging
import os

from odoo.exceptions import UserError
from odoo.tools import config

from ..lib.secretbox import MissingKeyError, SecretBox, exposure, load_or_create_key

_logger = logging.getLogger(__name__)
_boxes = {}


def key_file_path(dbname):
    configured = config.get("mfg_integration_key_file")
    if configured:
        return configured
    return os.path.join(config["data_dir"], "mfg_integration", f"{dbname}.key")


def secret_box(env):
    path = key_file_path(env.cr.dbname)
    box = _boxes.get(path)
    if box is None:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        try:
            key = load_or_create_key(path, secrets_exist=_encrypted_secrets_exist(env))
        except MissingKeyError as error:
            _logger.error("Integration secrets cannot be used: %s", error)
            raise UserError(str(error)) from error
        box = _boxes[path] = SecretBox(key)
    return box


def _encrypted_secrets_exist(env):
    env.cr.execute(
        """
        SELECT EXISTS (SELECT 1 FROM mfg_integration_endpoint
                        WHERE secret_encrypted IS NOT NULL OR previous_secret_encrypted IS NOT NULL)
            OR EXISTS (SELECT 1 FROM mfg_integration_system WHERE inbound_secret_encrypted IS NOT NULL)
        """
    )
    return env.cr.fetchone()[0]


def report_key_file_exposure(dbname):
    """Logged at startup: a key file others can read defeats encryption at rest."""
    problem = exposure(key_file_path(dbname))
    if problem:
        _logger.warning("Integration secrets at risk: %s", problem)
    return problem
