"""Screenshots of the live demo in a real browser (headless Chromium over the DevTools protocol), for the README.

``python3 -m simulators.screenshots --url http://127.0.0.1:8069 --database mfg_demo --out docs``
Logs in as admin like a user, waits for each page to show live data, and writes demo_dashboard.png,
demo_production_order.png and demo_inbound_exceptions.png. Run it while ``setup/run`` runs (the exception
exists between the WMS's unknown article and support's fix, about 50 s to 170 s into each fault cycle).
"""

import argparse
import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import websocket

PAGES = (
    (
        "demo_dashboard.png",
        "/odoo/action-mfg_integration_monitoring.action_mfg_integration_dashboard",
        "document.querySelectorAll('.o_mfg_card').length >= 3",
    ),
    (
        "demo_production_order.png",
        "/odoo/action-mrp.mrp_production_action/{production_id}",
        "document.querySelector('.o_form_view .o_field_badge, .o_form_view .badge')",
    ),
    (
        "demo_inbound_exceptions.png",
        "/odoo/action-mfg_integration.mfg_integration_inbound_exception_action",
        "document.querySelector('.o_list_view .o_data_row')",
    ),
)


class DevTools:
    """A headless Chromium and one page, driven over its DevTools websocket."""

    def __init__(self, size):
        self.profile = tempfile.mkdtemp(prefix="mfg-chromium-")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        browser = shutil.which("chromium") or shutil.which("google-chrome")
        self.process = subprocess.Popen(
            [
                browser,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={size}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                targets = requests.get(f"http://127.0.0.1:{port}/json", timeout=2).json()
                page = next(t for t in targets if t["type"] == "page")
                break
            except (requests.RequestException, StopIteration):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.ids = iter(range(1, 1_000_000))

    def call(self, method, **params):
        request_id = next(self.ids)
        self.socket.send(json.dumps({"id": request_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self.socket.recv())
            if answer.get("id") == request_id:
                return answer.get("result", {})

    def wait_for(self, expression, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.call("Runtime.evaluate", expression=f"!!({expression})", returnByValue=True)
            if result.get("result", {}).get("value") is True:
                return True
            time.sleep(0.5)
        return False

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--database", default="mfg_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", default="docs")
    parser.add_argument("--size", default="1400,900")
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    session = requests.Session()
    login = session.post(
        f"{args.url}/web/session/authenticate",
        timeout=60,
        json={"jsonrpc": "2.0", "params": {"db": args.database, "login": args.login, "password": args.password}},
    )
    login.raise_for_status()
    done = session.post(
        f"{args.url}/web/dataset/call_kw",
        timeout=60,
        json={
            "jsonrpc": "2.0",
            "params": {
                "model": "mrp.production",
                "method": "search",
                "args": [[("state", "=", "done")]],
                "kwargs": {"limit": 1, "order": "id desc"},
            },
        },
    ).json()["result"]
    browser = DevTools(args.size)
    try:
        browser.call(
            "Network.setCookie", name="session_id", value=session.cookies["session_id"], url=args.url, path="/"
        )
        for name, path, ready in PAGES:
            browser.call("Page.navigate", url=args.url + path.format(production_id=done[0] if done else 0))
            ready_ok = browser.wait_for(ready, args.timeout)
            time.sleep(1.5)  # the last rendering and fonts
            png = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
            if not ready_ok:
                Path(tempfile.gettempdir(), name).write_bytes(png)
                raise SystemExit(f"{name}: the page never showed {ready} (see {tempfile.gettempdir()}/{name})")
            Path(args.out, name).write_bytes(png)
            print(f"[sim] screenshot {name}: {len(png)} bytes")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
