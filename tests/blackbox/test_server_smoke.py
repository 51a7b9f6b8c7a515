"""Proves the black-box harness: a real Odoo process answers over HTTP."""

import requests


def test_health_endpoint_passes(odoo_server):
    response = requests.get(odoo_server.url("/web/health"), timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "pass"


def test_login_page_renders(odoo_server):
    response = requests.get(odoo_server.url("/web/login"), timeout=30)
    assert response.status_code == 200
    assert 'name="login"' in response.text
    assert 'name="password"' in response.text


def test_odoo_shell_helper_reads_the_blackbox_database(odoo_server):
    out = odoo_server.odoo_shell("print('DB=' + env.cr.dbname)")
    assert f"DB={odoo_server.db}" in out
