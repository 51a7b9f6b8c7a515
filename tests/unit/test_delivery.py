"""What the dispatcher does with a transport's verdict: one pure decision."""

from mfg_integration_lib import circuit, delivery
from mfg_integration_lib.transport import DEAD, DELIVERED, RETRY, Verdict


def _policy(failing=False, max_attempts=8):
    return delivery.EndpointPolicy(
        id=1, transport="http_webhook", timeout=10.0, max_attempts=max_attempts, backoff_base=10.0,
        backoff_cap=3600.0, max_parallel=4, secrets=[], failing=failing,
    )


def test_delivered_is_done_and_a_success_for_the_circuit():
    decision = delivery.decide(Verdict(DELIVERED, 12, status=200), 1, _policy())
    assert decision == delivery.Decision("done", None, circuit.SUCCESS)


def test_a_refusal_is_dead_at_once_and_says_nothing_about_the_receivers_health():
    decision = delivery.decide(Verdict(DEAD, 3, status=400), 1, _policy())
    assert decision == delivery.Decision("dead", None, None)


def test_retry_waits_with_full_jitter_and_counts_as_a_failure():
    decision = delivery.decide(Verdict(RETRY, 5, status=503), 3, _policy(), rand=lambda: 1.0)
    assert decision == delivery.Decision("retry", 40.0, circuit.FAILURE)


def test_no_answer_at_all_counts_as_unreachable():
    decision = delivery.decide(Verdict(RETRY, 5, reachable=False), 1, _policy(), rand=lambda: 0.5)
    assert decision == delivery.Decision("retry", 5.0, circuit.UNREACHABLE)


def test_retry_after_wins_over_the_backoff():
    decision = delivery.decide(Verdict(RETRY, 5, status=429, retry_after=120.0), 1, _policy())
    assert decision.delay == 120.0


def test_the_last_attempt_is_a_dead_letter_but_still_teaches_the_circuit():
    decision = delivery.decide(Verdict(RETRY, 5, status=500), 8, _policy(max_attempts=8))
    assert decision == delivery.Decision("dead", None, circuit.FAILURE)


def test_a_failing_endpoint_gets_one_probe_at_a_time():
    assert _policy(failing=False).parallel_limit == 4
    assert _policy(failing=True).parallel_limit == 1
