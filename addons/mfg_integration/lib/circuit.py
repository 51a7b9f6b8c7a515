"""The endpoint circuit breaker: one pure function from (state, outcome) to the new state.

The state is a short history of recent outcomes, oldest first: ``s`` success, ``f`` failure
with an answer (5xx, 408, 429), ``c`` no answer at all (connection refused, timeout).
The circuit opens when, over that sliding window, there are at least ``min_failures``
failures making at least ``failure_ratio`` of it (a 10%-flaky receiver never gets there;
while the window is not full yet, its missing attempts count as successes, so that an
unlucky start, like 5 failures in a flaky receiver's first 10 answers, does not open it),
or at once after ``unreachable_limit`` consecutive connection failures (a dead receiver).
Once open, it waits ``cooldown`` (doubling while probes keep failing, never above
``MAX_COOLDOWN``), then lets one probe through (half-open); a success closes it.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

SUCCESS, FAILURE, UNREACHABLE = "s", "f", "c"
WINDOW = 20
MIN_FAILURES = 5
MAX_COOLDOWN = 30.0  # a receiver back after an outage is probed within half a minute
MAX_DOUBLINGS = 6


@dataclass(frozen=True)
class CircuitPolicy:
    failure_ratio: float = 0.5
    unreachable_limit: int = 3
    cooldown: float = 10.0
    window: int = WINDOW
    min_failures: int = MIN_FAILURES


@dataclass(frozen=True)
class Circuit:
    history: str = ""
    open_until: datetime | None = None
    trips: int = 0  # openings in a row without a success: doubles the cooldown

    def state(self, now):
        if self.open_until is None:
            return "closed"
        return "open" if self.open_until > now else "half_open"

    @property
    def consecutive_failures(self):
        return len(self.history) - len(self.history.rstrip(FAILURE + UNREACHABLE))

    @property
    def healthy(self):
        """Closed with a full window of successes: one more success changes nothing."""
        return self.open_until is None and self.history == SUCCESS * WINDOW


def record(circuit: Circuit, outcome: str, now: datetime, policy: CircuitPolicy) -> Circuit:
    """The circuit after one attempt's ``outcome`` (SUCCESS, FAILURE or UNREACHABLE)."""
    if outcome not in (SUCCESS, FAILURE, UNREACHABLE):
        raise ValueError(f"unknown outcome {outcome!r}")
    history = (circuit.history + outcome)[-policy.window :]
    state = circuit.state(now)
    if outcome == SUCCESS:
        if state == "closed":
            return replace(circuit, history=history)
        # The receiver answers again: close, and forget the outage so that the next
        # scattered failure is judged on fresh figures.
        return Circuit(history=SUCCESS)
    if state == "open":
        # An answer to a request sent before the circuit opened: nothing new to decide.
        return replace(circuit, history=history)
    if state == "half_open":
        # The probe failed: wait longer before the next one.
        return _opened(history, circuit.trips + 1, now, policy)
    if _trips(history, policy):
        return _opened(history, 0, now, policy)
    return replace(circuit, history=history)


def _trips(history, policy):
    unreachable_run = len(history) - len(history.rstrip(UNREACHABLE))
    if unreachable_run >= policy.unreachable_limit:
        return True
    failures = history.count(FAILURE) + history.count(UNREACHABLE)
    return failures >= policy.min_failures and failures >= policy.failure_ratio * max(len(history), policy.window)


def _opened(history, trips, now, policy):
    seconds = min(policy.cooldown * 2 ** min(trips, MAX_DOUBLINGS), MAX_COOLDOWN)
    return Circuit(history=history, open_until=now + timedelta(seconds=seconds), trips=trips)
