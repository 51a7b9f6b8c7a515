"""Compare two views of the same shared state, item by item.

Work in progress: {order reference: WipState}. Stock: {(location, material, lot): quantity}
(``lot`` is "" for untracked material). Open purchase lines: {(order, line): OpenLine}.
The caller builds both views (Odoo's at the snapshot's ``as_of``) and gives the tolerance
of each item; every difference comes back with both values.
"""

from dataclasses import dataclass, field

MISSING_IN_ODOO = "missing_in_odoo"
MISSING_IN_SYSTEM = "missing_in_system"
QUANTITY = "quantity"
STATUS = "status"
LOT = "lot"
DATE = "date"

# Quantities closer than this are equal (float noise of unit conversions).
EPSILON = 1e-9


@dataclass(frozen=True)
class Tolerance:
    """A difference is accepted up to ``absolute`` units or ``percent`` % of Odoo's quantity, whichever is larger."""

    absolute: float = 0.0
    percent: float = 0.0

    def allows(self, odoo_quantity, system_quantity):
        allowed = max(self.absolute, abs(odoo_quantity) * self.percent / 100.0)
        return abs(odoo_quantity - system_quantity) <= allowed + EPSILON


EXACT = Tolerance()


@dataclass(frozen=True)
class WipState:
    status: str
    produced: float = 0.0
    scrapped: float = 0.0
    lots: frozenset = field(default_factory=frozenset)


@dataclass(frozen=True)
class Difference:
    kind: str
    key: tuple
    measure: str
    odoo_value: object
    system_value: object
    odoo_lot: str = ""
    system_lot: str = ""


def compare_wip(odoo, system, tolerance_of=lambda reference: EXACT):
    """Differences between two {reference: WipState} views, sorted by reference."""
    differences = []
    for reference in sorted(odoo.keys() | system.keys()):
        ours, theirs = odoo.get(reference), system.get(reference)
        key = (reference,)
        if ours is None:
            differences.append(Difference(MISSING_IN_ODOO, key, "status", None, theirs.status))
            continue
        if theirs is None:
            differences.append(Difference(MISSING_IN_SYSTEM, key, "status", ours.status, None))
            continue
        if ours.status != theirs.status:
            differences.append(Difference(STATUS, key, "status", ours.status, theirs.status))
        tolerance = tolerance_of(reference)
        for measure in ("produced", "scrapped"):
            mine, other = getattr(ours, measure), getattr(theirs, measure)
            if not tolerance.allows(mine, other):
                differences.append(Difference(QUANTITY, key, measure, mine, other))
        if ours.lots != theirs.lots:
            differences.append(
                Difference(LOT, key, "lots", ", ".join(sorted(ours.lots)), ", ".join(sorted(theirs.lots)))
            )
    return differences


def compare_stock(odoo, system, tolerance_of=lambda location, material: EXACT):
    """Differences between two {(location, material, lot): quantity} views.

    An item only one side has (beyond the tolerance) is a lot mismatch when the other side
    has, at the same location and for the same material, another lot with the same quantity
    that it does not have; otherwise it is missing on the other side.
    """
    differences = []
    unmatched = {}  # (location, material) -> ({lot: odoo qty}, {lot: system qty})
    for key in sorted(odoo.keys() | system.keys()):
        location, material, lot = key
        tolerance = tolerance_of(location, material)
        ours, theirs = odoo.get(key), system.get(key)
        if ours is not None and theirs is not None:
            if not tolerance.allows(ours, theirs):
                differences.append(Difference(QUANTITY, key, "on_hand", ours, theirs, lot, lot))
            continue
        if tolerance.allows(ours or 0.0, theirs or 0.0):
            continue  # e.g. an empty quant Odoo keeps
        sides = unmatched.setdefault((location, material), ({}, {}))
        if ours is not None:
            sides[0][lot] = ours
        else:
            sides[1][lot] = theirs
    for (location, material), (ours_only, theirs_only) in unmatched.items():
        tolerance = tolerance_of(location, material)
        for system_lot, theirs in sorted(theirs_only.items()):
            odoo_lot = next(
                (
                    lot
                    for lot, ours in sorted(ours_only.items())
                    if lot and system_lot and tolerance.allows(ours, theirs)
                ),
                None,
            )
            if odoo_lot is None:
                key = (location, material, system_lot)
                differences.append(Difference(MISSING_IN_ODOO, key, "on_hand", None, theirs, "", system_lot))
                continue
            ours = ours_only.pop(odoo_lot)
            key = (location, material, system_lot)
            differences.append(Difference(LOT, key, "on_hand", ours, theirs, odoo_lot, system_lot))
        for odoo_lot, ours in sorted(ours_only.items()):
            key = (location, material, odoo_lot)
            differences.append(Difference(MISSING_IN_SYSTEM, key, "on_hand", ours, None, odoo_lot, ""))
    return sorted(differences, key=lambda d: (tuple(str(part) for part in d.key), d.kind))


def stock_at(current, moves_after):
    """On-hand at a past moment: the current quantities minus what moved in since, plus what moved out.

    ``current``: {key: quantity now}; ``moves_after``: [(key_from or None, key_to or None, quantity)]
    for every done movement after that moment (None: a location outside the view).
    """
    result = dict(current)
    for key_from, key_to, quantity in moves_after:
        if key_to is not None:
            result[key_to] = result.get(key_to, 0.0) - quantity
        if key_from is not None:
            result[key_from] = result.get(key_from, 0.0) + quantity
    return result


@dataclass(frozen=True)
class OpenLine:
    """A purchase line still to be received: ordered minus received, and the date it is expected."""

    open_quantity: float
    date: object = None  # datetime.date, or None when the side has no date


def compare_open_lines(odoo, system, tolerance_of=lambda key: EXACT, date_tolerance_days=0):
    """Differences between two {(order, line): OpenLine} views, sorted by key.

    Dates differ when they are more than ``date_tolerance_days`` apart; a side without a date
    (the system promised none) is no date difference.
    """
    differences = []
    for key in sorted(odoo.keys() | system.keys(), key=lambda key: tuple(str(part) for part in key)):
        ours, theirs = odoo.get(key), system.get(key)
        if ours is None:
            differences.append(Difference(MISSING_IN_ODOO, key, "open_quantity", None, theirs.open_quantity))
            continue
        if theirs is None:
            differences.append(Difference(MISSING_IN_SYSTEM, key, "open_quantity", ours.open_quantity, None))
            continue
        if not tolerance_of(key).allows(ours.open_quantity, theirs.open_quantity):
            differences.append(Difference(QUANTITY, key, "open_quantity", ours.open_quantity, theirs.open_quantity))
        if ours.date and theirs.date and abs((ours.date - theirs.date).days) > date_tolerance_days:
            differences.append(Difference(DATE, key, "promised_date", ours.date.isoformat(), theirs.date.isoformat()))
    return differences


def pages(items, size):
    """``items`` split in pages of at most ``size`` (one empty page for no item)."""
    return [items[start : start + size] for start in range(0, len(items), size)] or [[]]
