"""Pure comparison logic of mfg_integration_reconciliation (addons/mfg_integration_reconciliation/lib)."""

import datetime
import importlib.util
import pathlib

LIB = pathlib.Path(__file__).resolve().parents[2] / "addons" / "mfg_integration_reconciliation" / "lib" / "compare.py"
_spec = importlib.util.spec_from_file_location("mfg_reconciliation_compare", LIB)
compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare)

WipState, Tolerance = compare.WipState, compare.Tolerance


def kinds(differences):
    return [(d.kind, d.key, d.measure, d.odoo_value, d.system_value) for d in differences]


def test_tolerance_takes_the_larger_of_absolute_and_percent():
    tolerance = Tolerance(absolute=1.0, percent=5.0)
    assert tolerance.allows(100.0, 105.0)
    assert not tolerance.allows(100.0, 105.1)
    assert tolerance.allows(10.0, 11.0)
    assert not tolerance.allows(10.0, 11.1)
    assert compare.EXACT.allows(3.0, 3.0)
    assert not compare.EXACT.allows(3.0, 3.001)


def test_wip_matching_views_have_no_difference():
    state = WipState("in_progress", 4.0, 1.0, frozenset({"L1"}))
    assert compare.compare_wip({"MO/1": state}, {"MO/1": state}) == []


def test_wip_reports_missing_orders_status_quantities_and_lots():
    odoo = {
        "MO/1": WipState("in_progress", 4.0, 0.0, frozenset({"L1"})),
        "MO/2": WipState("released"),
    }
    system = {
        "MO/1": WipState("completed", 6.0, 1.0, frozenset({"L2"})),
        "MO/9": WipState("released"),
    }
    assert kinds(compare.compare_wip(odoo, system)) == [
        ("status", ("MO/1",), "status", "in_progress", "completed"),
        ("quantity", ("MO/1",), "produced", 4.0, 6.0),
        ("quantity", ("MO/1",), "scrapped", 0.0, 1.0),
        ("lot", ("MO/1",), "lots", "L1", "L2"),
        ("missing_in_system", ("MO/2",), "status", "released", None),
        ("missing_in_odoo", ("MO/9",), "status", None, "released"),
    ]


def test_wip_tolerance_per_order():
    odoo = {"MO/1": WipState("in_progress", 100.0)}
    system = {"MO/1": WipState("in_progress", 101.0)}
    assert compare.compare_wip(odoo, system, lambda ref: Tolerance(percent=2.0)) == []
    assert len(compare.compare_wip(odoo, system)) == 1


def test_stock_quantity_missing_and_tolerance():
    odoo = {(1, 10, ""): 50.0, (1, 11, ""): 5.0, (2, 10, ""): 0.0}
    system = {(1, 10, ""): 48.0, (3, 10, ""): 7.0}
    assert kinds(compare.compare_stock(odoo, system)) == [
        ("quantity", (1, 10, ""), "on_hand", 50.0, 48.0),
        ("missing_in_system", (1, 11, ""), "on_hand", 5.0, None),
        ("missing_in_odoo", (3, 10, ""), "on_hand", None, 7.0),
    ]
    tolerant = compare.compare_stock(odoo, system, lambda location, material: Tolerance(absolute=2.0))
    assert [d.kind for d in tolerant] == ["missing_in_system", "missing_in_odoo"]


def test_stock_lot_mismatch_pairs_lots_of_the_same_quantity():
    odoo = {(1, 10, "L-A"): 30.0, (1, 10, "L-B"): 5.0}
    system = {(1, 10, "L-X"): 30.0}
    differences = compare.compare_stock(odoo, system)
    assert [(d.kind, d.odoo_lot, d.system_lot, d.odoo_value, d.system_value) for d in differences] == [
        ("missing_in_system", "L-B", "", 5.0, None),
        ("lot", "L-A", "L-X", 30.0, 30.0),
    ]


def test_stock_at_takes_movements_after_as_of_back():
    current = {("A", "P", ""): 10.0, ("B", "P", ""): 5.0}
    # After as_of: 4 moved A -> B, 3 received into A from a supplier, 2 shipped from B.
    moves = [(("A", "P", ""), ("B", "P", ""), 4.0), (None, ("A", "P", ""), 3.0), (("B", "P", ""), None, 2.0)]
    assert compare.stock_at(current, moves) == {("A", "P", ""): 11.0, ("B", "P", ""): 3.0}


def test_pages():
    assert compare.pages([1, 2, 3], 2) == [[1, 2], [3]]
    assert compare.pages([], 2) == [[]]


def test_open_lines_missing_quantity_and_date():
    line = compare.OpenLine
    odoo = {
        ("P1", 1): line(10.0, datetime.date(2030, 2, 1)),
        ("P1", 2): line(5.0, datetime.date(2030, 2, 1)),
        ("P2", 3): line(7.0, datetime.date(2030, 3, 1)),
    }
    system = {
        ("P1", 1): line(10.0, datetime.date(2030, 2, 1)),
        ("P1", 2): line(4.0, datetime.date(2030, 2, 6)),
        ("P9", 9): line(3.0, None),
    }
    assert kinds(compare.compare_open_lines(odoo, system)) == [
        ("quantity", ("P1", 2), "open_quantity", 5.0, 4.0),
        ("date", ("P1", 2), "promised_date", "2030-02-01", "2030-02-06"),
        ("missing_in_system", ("P2", 3), "open_quantity", 7.0, None),
        ("missing_in_odoo", ("P9", 9), "open_quantity", None, 3.0),
    ]


def test_open_lines_tolerances_and_missing_dates():
    line = compare.OpenLine
    odoo = {("P1", 1): line(100.0, datetime.date(2030, 2, 1)), ("P1", 2): line(5.0, datetime.date(2030, 2, 1))}
    system = {("P1", 1): line(98.0, datetime.date(2030, 2, 3)), ("P1", 2): line(5.0, None)}
    tolerance = {("P1", 1): Tolerance(absolute=2.0), ("P1", 2): compare.EXACT}
    assert compare.compare_open_lines(odoo, system, tolerance.get, date_tolerance_days=2) == []
    assert kinds(compare.compare_open_lines(odoo, system, tolerance.get, date_tolerance_days=1)) == [
        ("date", ("P1", 1), "promised_date", "2030-02-01", "2030-02-03"),
    ]
