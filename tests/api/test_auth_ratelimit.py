"""Failed-authentication rate limit: 12 failures per user per 120 s, shared by all Lambdas."""
from __future__ import annotations

import threading

from chalicelib.services import ratelimit
from chalicelib.store.keys import KeyItem, rate_key
from chalicelib.store.users import UserItem
from devstack.calls import counting


def attempt(api, username, password, **body):
    return api.post("/authenticate", {"username": username, "password": password, **body})


def test_thirteen_wrong_passwords_lock_that_user_only(api, make_user):
    make_user("victim", password="right")
    make_user("neighbour", password="right")
    for _ in range(12):
        assert attempt(api, "victim", "wrong")["code"] == "AuthFailed"
    thirteenth = attempt(api, "victim", "wrong")
    assert thirteenth.status == 403 and thirteenth["code"] == "RateLimitedError"
    locked = attempt(api, "victim", "right")
    assert locked.status == 403 and locked["code"] == "RateLimitedError"
    assert 0 < int(locked.headers["Retry-After"]) <= 120
    assert locked["retryAfter"] == int(locked.headers["Retry-After"])
    assert attempt(api, "neighbour", "right").status == 200
    assert attempt(api, "neighbour", "wrong")["code"] == "AuthFailed"


def test_locked_attempts_are_logged_as_failures(api, make_user):
    user_id = make_user("audited", password="right")
    for _ in range(13):
        attempt(api, "audited", "wrong")
    entries = api.get(f"/users/{user_id}/authlog?action=authentication&limit=50")["results"]
    assert len(entries) == 13 and {e["result"] for e in entries} == {"fail"}


def test_successful_logins_neither_count_nor_reset(api, make_user):
    make_user("mixed", password="right")
    for _ in range(11):
        attempt(api, "mixed", "wrong")
    for _ in range(3):
        assert attempt(api, "mixed", "right").status == 200
    assert attempt(api, "mixed", "wrong")["code"] == "AuthFailed"  # the 12th failure
    assert attempt(api, "mixed", "right")["code"] == "RateLimitedError"


def test_wrong_asp_counts_as_a_failure(api, make_user):
    user_id = make_user("aspguess", password="right")
    api.post(f"/users/{user_id}/asps", {"description": "client"})
    for _ in range(12):
        assert attempt(api, "aspguess", "abcdabcdabcdabcd", scope="imap")["code"] == "AuthFailed"
    assert attempt(api, "aspguess", "right")["code"] == "RateLimitedError"


def test_lock_ends_with_the_window(api, make_user):
    user_id = make_user("patient", password="right")
    for _ in range(12):
        attempt(api, "patient", "wrong")
    assert attempt(api, "patient", "right")["code"] == "RateLimitedError"
    # Let the window pass (moto never runs TTL; expired items must read as absent).
    UserItem(id=user_id).update(actions=[UserItem.authLockedUntil.set(1)])
    KeyItem(key=rate_key("auth", user_id)).update(actions=[KeyItem.expires.set(1)])
    assert attempt(api, "patient", "right").status == 200
    assert attempt(api, "patient", "wrong")["code"] == "AuthFailed"
    assert KeyItem.get(rate_key("auth", user_id)).count == 1  # a new window


def test_failure_counter_is_exact_under_concurrency(make_user, serialized_aws):
    user_id = make_user("hammered")
    threads = [threading.Thread(target=ratelimit.record_failure,
                                args=(user_id, ratelimit.AUTHENTICATION)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counter = KeyItem.get(rate_key("auth", user_id))
    assert counter.count == 20 and counter.user == user_id
    assert UserItem.get(user_id).authLockedUntil == counter.expires


def test_wrong_password_budget(api, make_user):
    make_user("counted", password="right")
    with counting() as calls:
        assert attempt(api, "counted", "wrong").status == 403
    # lookup + user, the counter, the authlog entry.
    assert calls.by_operation() == {"GetItem": 2, "UpdateItem": 1, "PutItem": 1}


def test_locked_attempt_budget(api, make_user):
    make_user("cheaplock", password="right")
    for _ in range(12):
        attempt(api, "cheaplock", "wrong")
    with counting() as calls:
        assert attempt(api, "cheaplock", "right").status == 403
    assert calls.by_operation() == {"GetItem": 2, "PutItem": 1}
