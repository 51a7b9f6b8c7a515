"""Black-box fixtures: a real Odoo server process on its own database.

setup/test exports MFG_ODOO_CONF (Odoo config of the throw-away cluster) and
MFG_BLACKBOX_DB (a copy of the freshly installed test database, so black-box
tests never touch the database pytest-odoo runs TransactionCase tests in).
"""

import pytest

from tests.harness import odoo_server_process, required_env


@pytest.fixture(scope="session")
def odoo_server(tmp_path_factory):
    conf, db = required_env("MFG_ODOO_CONF"), required_env("MFG_BLACKBOX_DB")
    with odoo_server_process(conf, db, tmp_path_factory.mktemp("odoo_server")) as server:
        yield server
