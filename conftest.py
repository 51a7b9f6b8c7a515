"""Repository-wide pytest hooks.

A skipped or xfailed test fails the run: a test that does not run proves
nothing (e.g. Odoo browser tests raise unittest.SkipTest when Chromium or
websocket-client is missing, HttpCase tests skip without --odoo-http).
"""

import pytest


class NoSkipPlugin:
    """Records every skip/xfail/xpass and turns a green run red."""

    def __init__(self):
        self.not_run = []  # (nodeid, outcome, reason)

    @staticmethod
    def _reason(report):
        if hasattr(report, "wasxfail"):
            return report.wasxfail or "xfail"
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (file, line, reason)
            return f"{longrepr[2]} ({longrepr[0]}:{longrepr[1]})"
        return str(longrepr)

    def _record(self, report):
        if report.skipped:
            outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
            self.not_run.append((report.nodeid, outcome, self._reason(report)))
        elif report.passed and hasattr(report, "wasxfail"):
            self.not_run.append((report.nodeid, "xpassed", self._reason(report)))

    def pytest_runtest_logreport(self, report):
        self._record(report)

    def pytest_collectreport(self, report):
        self._record(report)  # module-level skips (importorskip, allow_module_level)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        if self.not_run and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if not self.not_run:
            return
        terminalreporter.section("tests that did not run (this fails the run)", red=True, bold=True)
        for nodeid, outcome, reason in self.not_run:
            terminalreporter.line(f"{outcome.upper()} {nodeid}: {reason}", red=True)


def pytest_configure(config):
    # Registered as a plugin (not conftest hooks) so it sees every test,
    # including tests outside this directory tree.
    config.pluginmanager.register(NoSkipPlugin(), "mfg-no-skip")
