"""Runs of inbound events applied together (lib/inbox.together_runs)."""

from mfg_integration_lib import inbox

REPORT = "performance"


def test_consecutive_events_of_one_kind_on_different_subjects_run_together():
    items = [(REPORT, "MO/1"), (REPORT, "MO/2"), (REPORT, "MO/3")]
    assert inbox.together_runs(items, 20) == [(0, 3)]


def test_a_subject_seen_again_starts_a_new_run_so_its_events_stay_in_order():
    items = [(REPORT, "MO/1"), (REPORT, "MO/2"), (REPORT, "MO/1"), (REPORT, "MO/3")]
    assert inbox.together_runs(items, 20) == [(0, 2), (2, 4)]


def test_another_kind_or_an_item_alone_ends_the_run():
    items = [(REPORT, "MO/1"), ("downtime", "WC/1"), None, (REPORT, "MO/2"), (REPORT, "MO/3"), None]
    assert inbox.together_runs(items, 20) == [(0, 1), (1, 2), (2, 3), (3, 5), (5, 6)]


def test_runs_hold_at_most_the_limit():
    items = [(REPORT, f"MO/{index}") for index in range(7)]
    assert inbox.together_runs(items, 3) == [(0, 3), (3, 6), (6, 7)]
    assert inbox.together_runs([], 3) == []
