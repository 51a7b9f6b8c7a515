"""Where the key that encrypts webhook secrets at rest lives.

The key is kept outside the database (option ``mfg_integration_key_file`` of
the Odoo configuration, else a per-database file in Odoo's data directory),
so that a database dump alone does not reveal any secret.
"""

import os

from odoo.tools import config

from ..lib.secretbox import SecretBox, load_or_create_key

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
        box = _boxes[path] = SecretBox(load_or_create_key(path))
    return box
