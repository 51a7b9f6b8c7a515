"""What the dispatcher does with a transport's verdict: one pure decision."""

import dataclasses
from concurrent.futures import ThreadPoolExecutor

from mfg_integration_lib import circuit, delivery, transport
from mfg_integration_lib.transport import DEAD, DELIVERED, RETRY, Verdict


def _policy(failing=False, max_attempts=8):
    return delivery.EndpointPolicy(
        id=1,
        transport="http_webhook",
        timeout=10.0,
        max_attempts=max_attempts,
        backoff_base=10.0,
        backoff_cap=3600.0,
        max_parallel=4,
        secrets=[],
        failing=failing,
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


class _Scripted(transport.Transport):
    """Answers each delivery with the verdict named by its event id ("ok" or "fail")."""

    key = "unit_scripted"

    def send(self, delivery_):
        return Verdict(
            DELIVERED if delivery_.event_id == "ok" else RETRY, 1, status=200 if delivery_.event_id == "ok" else 500
        )


transport.register(_Scripted)


def _delivery(message_id, event_id="ok", policy=None):
    policy = policy or dataclasses.replace(_policy(), transport=_Scripted.key)
    return delivery.Delivery(message_id, event_id, 1, 0, b"{}", policy)


def test_in_flight_keeps_each_endpoints_parallel_limit_and_the_overall_one():
    with ThreadPoolExecutor(4) as pool:
        sends = delivery.InFlight(pool, limit=6)
        endpoint = dataclasses.replace(_policy(), transport=_Scripted.key)  # max_parallel 4
        for message_id in range(4):
            assert sends.can_send(endpoint)
            sends.send([_delivery(message_id, policy=endpoint)])
        assert not sends.can_send(endpoint)
        other = dataclasses.replace(endpoint, id=2)
        sends.send([_delivery(4, policy=other)])
        sends.send([_delivery(5, policy=other)])
        assert not sends.can_send(dataclasses.replace(endpoint, id=3)), "6 in flight: the overall limit"
        answers = []
        while len(sends):
            answers += sends.answers(5)
        assert sorted(answer.delivery.message_id for answer in answers) == list(range(6))
        assert sends.can_send(endpoint)


def test_successes_are_gathered_with_the_next_sends_going_out_and_a_failure_ends_the_gathering():
    with ThreadPoolExecutor(4) as pool:
        sends = delivery.InFlight(pool, limit=16)
        queue = [_delivery(index) for index in range(1, 6)] + [_delivery(6, "fail"), _delivery(7)]

        def send_next():
            while queue and sends.can_send(queue[0].endpoint):
                sends.send([queue.pop(0)])

        sends.send([_delivery(0)])
        first = sends.answers(5)
        gathered = sends.gather_successes(first, seconds=5, most=100, send_next=send_next)
        outcomes = [answer.verdict.outcome for answer in gathered]
        assert outcomes.count(RETRY) == 1, "the failure is recorded with the successes gathered before it"
        failure = gathered[outcomes.index(RETRY)]
        # The gathering ended with the arrival that brought the failure (answers of one arrival share its time).
        assert all(answer.answered_at == failure.answered_at for answer in gathered[outcomes.index(RETRY) :])
        assert 0 in {answer.delivery.message_id for answer in gathered}


def test_gathering_stops_at_the_most_asked_for():
    with ThreadPoolExecutor(4) as pool:
        sends = delivery.InFlight(pool, limit=16)
        queue = [_delivery(index) for index in range(1, 50)]

        def send_next():
            while queue and sends.can_send(queue[0].endpoint):
                sends.send([queue.pop(0)])

        sends.send([_delivery(0)])
        gathered = sends.gather_successes(sends.answers(5), seconds=5, most=10, send_next=send_next)
        assert 10 <= len(gathered) < 10 + 4, "at most one arrival of up to max_parallel answers beyond"
        assert queue, "not everything was sent: the gathering stopped"


class _ScriptedBatched(_Scripted):
    key = "unit_scripted_batched"
    batched = True


transport.register(_ScriptedBatched)


def test_a_batched_transport_takes_every_waiting_delivery_of_the_endpoint_in_one_send():
    endpoint = dataclasses.replace(_policy(), transport="unit_scripted_batched")
    other = dataclasses.replace(endpoint, id=2)
    waiting = [_delivery(1, policy=endpoint), _delivery(2, policy=other), _delivery(3, policy=endpoint)]
    group = delivery.take_group(waiting, waiting[0])
    assert [d.message_id for d in group] == [1, 3]
    assert [d.message_id for d in waiting] == [2]
    with ThreadPoolExecutor(4) as pool:
        sends = delivery.InFlight(pool, limit=16)
        sends.send(group)
        assert len(sends) == 1 and sends.per_endpoint[endpoint.id] == 1, "one send for the group"
        answers = sends.answers(10)
    assert [(a.delivery.message_id, a.verdict.outcome) for a in answers] == [(1, DELIVERED), (3, DELIVERED)]


def test_a_failing_endpoint_of_a_batched_transport_gets_one_probe_alone():
    endpoint = dataclasses.replace(_policy(failing=True), transport="unit_scripted_batched")
    waiting = [_delivery(1, policy=endpoint), _delivery(2, policy=endpoint)]
    assert [d.message_id for d in delivery.take_group(waiting, waiting[0])] == [1]
    assert [d.message_id for d in waiting] == [2]
