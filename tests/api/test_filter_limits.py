"""The account's `filters` limit (POST/PUT /users), and what GET /users/{user} shows of
filters and autoreply (`limits.filters`, `autoreply`)."""
from __future__ import annotations

from tests.api.test_correctness import _as, _token


def _filter(api, user_id, n):
    return api.post(f"/users/{user_id}/filters",
                    {"query": {"subject": f"s{n}"}, "action": {"seen": True}})


def test_an_account_limit_bounds_its_filters_and_shows_in_the_account(api, make_user):
    user_id = make_user("limited", filters=2)
    shown = api.get(f"/users/{user_id}")
    assert shown["limits"]["filters"] == {"allowed": 2, "used": 0}
    assert shown["autoreply"] is False
    assert _filter(api, user_id, 1).status == 200 and _filter(api, user_id, 2).status == 200
    third = _filter(api, user_id, 3)
    assert (third.status, third["code"], third["allowed"]) == (403, "TooMany", 2)
    assert api.get(f"/users/{user_id}")["limits"]["filters"] == {"allowed": 2, "used": 2}
    assert api.get(f"/users/{user_id}/filters")["limits"] == {"allowed": 2, "used": 2}
    assert api.put(f"/users/{user_id}", {"filters": 3}).status == 200
    assert _filter(api, user_id, 3).status == 200
    assert api.put(f"/users/{user_id}", {"filters": 0}).status == 200  # back to the default
    assert api.get(f"/users/{user_id}")["limits"]["filters"] == {"allowed": 400, "used": 3}


def test_autoreply_shows_whether_it_is_switched_on(api, make_user):
    user_id = make_user("away")
    assert api.put(f"/users/{user_id}/autoreply",
                   {"status": True, "subject": "Away", "text": "Back soon"}).status == 200
    assert api.get(f"/users/{user_id}")["autoreply"] is True
    assert api.put(f"/users/{user_id}/autoreply", {"status": False}).status == 200
    assert api.get(f"/users/{user_id}")["autoreply"] is False


def test_a_user_token_may_not_raise_its_own_filter_limit(api, make_user):
    user_id = make_user("self")
    token = _token(api, "self", "secret-pass")["token"]
    reply = api.put(f"/users/{user_id}", {"filters": 1000}, **_as(token))
    assert (reply.status, reply["code"]) == (403, "MissingPrivileges")
    assert api.post("/users", {"username": "neg", "password": "pw",
                               "filters": -1}).status == 400
