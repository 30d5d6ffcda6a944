"""HTTP behaviour of mailboxes: paths, listing, rename, delete, limits, journal."""
from __future__ import annotations

import time

import pytest

from chalicelib.clock import now_ms
from chalicelib.ids import new_id
from chalicelib.store.filters import FilterItem
from chalicelib.store.journal import JournalItem
from chalicelib.store.lookups import LookupItem, mailbox_key
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.tasks import PURGE_MAILBOX, TaskItem
from chalicelib.store.users import UserItem
from devstack.calls import counting
from tests.support import race

DEFAULTS = ["INBOX", "Drafts", "Junk", "Sent Mail", "Trash"]


def _create(api, user_id, path, **fields):
    return api.post(f"/users/{user_id}/mailboxes", {"path": path, **fields})


def _paths(api, user_id, query=""):
    reply = api.get(f"/users/{user_id}/mailboxes{query}")
    assert reply.status == 200, reply
    return [box["path"] for box in reply["results"]]


def _resolve(api, user_id, path):
    return api.get(f"/users/{user_id}/mailboxes/resolve?path={path}")


def _journal(user_id):
    return [(entry.command, entry.data.as_dict()) for entry in JournalItem.query(user_id)]


def test_new_account_lists_its_default_mailboxes_inbox_first(api, make_user):
    user_id = make_user("fresh")
    reply = api.get(f"/users/{user_id}/mailboxes")
    assert [box["path"] for box in reply["results"]] == DEFAULTS
    inbox = reply["results"][0]
    assert inbox == {"id": inbox["id"], "name": "INBOX", "path": "INBOX", "specialUse": None,
                     "modifyIndex": 0, "subscribed": True, "hidden": False,
                     "encryptMessages": False}
    assert reply["results"][1]["specialUse"] == "\\Drafts"


def test_creating_a_b_c_then_listing_shows_the_path(api, make_user):
    user_id = make_user("nested")
    reply = _create(api, user_id, "a/b/c")
    assert reply.status == 200, reply
    box = next(b for b in api.get(f"/users/{user_id}/mailboxes")["results"]
               if b["id"] == reply["id"])
    assert box["path"] == "a/b/c" and box["name"] == "c"
    assert "a" not in _paths(api, user_id)  # parents are not created


def test_unicode_paths_are_stored_listed_and_resolved(api, make_user):
    user_id = make_user("unicode")
    box_id = _create(api, user_id, "Üks/Kaks/Kolm ☃").json["id"]
    assert "Üks/Kaks/Kolm ☃" in _paths(api, user_id)
    assert _resolve(api, user_id, "Üks/Kaks/Kolm ☃")["id"] == box_id
    # the decomposed spelling of Ü is the same mailbox
    reply = _create(api, user_id, "U\u0308ks/Kaks/Kolm ☃")
    assert reply.status == 400 and reply["code"] == "MailboxExistsError"


def test_inbox_in_any_case_becomes_INBOX(api, make_user):
    user_id = make_user("inboxcase")
    box_id = _create(api, user_id, "inbox/x").json["id"]
    assert api.get(f"/users/{user_id}/mailboxes/{box_id}")["path"] == "INBOX/x"
    assert _create(api, user_id, "/Inbox/x")["code"] == "MailboxExistsError"
    assert _create(api, user_id, "INBOX")["code"] == "MailboxExistsError"


@pytest.mark.parametrize("path", ["", "/", "a//b", "a/\x07", "/".join(["x"] * 129),
                                  "y" * 513, 42])
def test_malformed_paths_are_input_errors(api, make_user, path):
    user_id = make_user("badpath")
    reply = _create(api, user_id, path)
    assert reply.status == 400 and reply["code"] == "InputValidationError"
    assert "path" in reply["details"]


def test_deepest_and_longest_legal_path_is_unique_too(api, make_user):
    """128 levels of 512 characters exceed a DynamoDB key; the lookup uses a digest."""
    user_id = make_user("deep")
    path = "/".join([f"{n:03d}" + "é" * 509 for n in range(128)])
    box_id = _create(api, user_id, path).json["id"]
    assert _create(api, user_id, path)["code"] == "MailboxExistsError"
    assert api.get(f"/users/{user_id}/mailboxes/{box_id}")["path"] == path


def test_duplicate_path_is_mailbox_exists_error(api, make_user):
    user_id = make_user("dupe")
    assert _create(api, user_id, "Work").status == 200
    reply = _create(api, user_id, "Work")
    assert reply.status == 400 and reply["code"] == "MailboxExistsError"
    assert _create(api, user_id, "work").status == 200  # paths are case-sensitive
    other = make_user("dupe2")
    assert _create(api, other, "Work").status == 200  # unique per user only


def test_listing_order_is_inbox_children_subscribed_then_path(api, make_user):
    user_id = make_user("orderly")
    ids = {path: _create(api, user_id, path).json["id"]
           for path in ("zeta", "INBOX/Later", "alpha", "Alpha/Child", "beta", "INBOX/Early")}
    for path in ("alpha", "zeta"):
        api.put(f"/users/{user_id}/mailboxes/{ids[path]}", {"subscribed": False})
    assert _paths(api, user_id) == [
        "INBOX", "INBOX/Early", "INBOX/Later", "Alpha/Child", "beta", "Drafts", "Junk",
        "Sent Mail", "Trash", "alpha", "zeta"]


def test_counters_come_from_the_item(api, make_user):
    user_id = make_user("counted")
    inbox = next(b for b in MailboxItem.query(user_id) if b.path == "INBOX")
    inbox.update(actions=[MailboxItem.total.set(33), MailboxItem.unseen.set(8),
                          MailboxItem.size.set(4096), MailboxItem.modifyIndex.set(71)])
    listed = api.get(f"/users/{user_id}/mailboxes?counters=true")["results"][0]
    assert (listed["total"], listed["unseen"], listed["size"], listed["modifyIndex"]) == \
        (33, 8, 4096, 71)
    plain = api.get(f"/users/{user_id}/mailboxes")["results"][0]
    assert "total" not in plain and "unseen" not in plain
    one = api.get(f"/users/{user_id}/mailboxes/{inbox.id}")
    assert (one["total"], one["unseen"], one["uidNext"]) == (33, 8, 1)


def test_special_use_and_hidden_filters(api, make_user):
    user_id = make_user("filtered")
    _create(api, user_id, "Secret", hidden=True)
    assert _paths(api, user_id, "?specialUse=true") == ["INBOX", "Drafts", "Junk", "Sent Mail",
                                                        "Trash"]
    assert "Secret" not in _paths(api, user_id)
    assert "Secret" in _paths(api, user_id, "?showHidden=1")
    assert _paths(api, user_id, "?unknownParameter=1") == DEFAULTS  # listings ignore extras


def test_listing_200_mailboxes_with_counters_is_one_query(api, make_user):
    user_id = make_user("many")
    with MailboxItem.batch_write() as batch:
        for n in range(195):
            batch.save(MailboxItem(user=user_id, id=new_id(), path=f"Folder {n:03d}",
                                   uidValidity=int(time.time()), created=now_ms(),
                                   total=n, unseen=n % 7, size=n * 100))
    with counting() as calls:
        reply = api.get(f"/users/{user_id}/mailboxes?counters=true")
    assert len(reply["results"]) == 200
    last = next(box for box in reply["results"] if box["path"] == "Folder 194")
    assert (last["total"], last["unseen"], last["size"]) == (194, 194 % 7, 19400)
    assert calls.by_operation() == {"Query": 1}


def test_listing_of_a_deleted_account_is_user_not_found(api, make_user):
    user_id = make_user("gone")
    assert api.delete(f"/users/{user_id}").status == 200
    reply = api.get(f"/users/{user_id}/mailboxes")
    assert reply.status == 404 and reply["code"] == "UserNotFound"
    assert api.get("/users/" + "d" * 24 + "/mailboxes")["code"] == "UserNotFound"


def test_get_one_mailbox_always_has_total_and_unseen(api, make_user):
    user_id = make_user("single")
    box_id = _create(api, user_id, "Receipts", retention=86400000).json["id"]
    one = api.get(f"/users/{user_id}/mailboxes/{box_id}")
    assert one.status == 200
    assert one.json | {"id": None} == {
        "success": True, "id": None, "name": "Receipts", "path": "Receipts",
        "specialUse": None, "modifyIndex": 0, "subscribed": True, "hidden": False,
        "encryptMessages": False, "total": 0, "unseen": 0, "size": 0, "uidNext": 1,
        "retention": 86400000}


def test_resolve_by_path_is_routed_before_the_mailbox_id_route(api, make_user, app):
    from chalice.local import RouteMatcher

    user_id = make_user("resolver")
    box_id = _create(api, user_id, "inbox/Receipts").json["id"]
    reply = api.get(f"/users/{user_id}/mailboxes/resolve?path=INBOX/Receipts")
    assert reply.json == api.get(f"/users/{user_id}/mailboxes/{box_id}").json
    assert reply["id"] == box_id
    assert api.get(f"/users/{user_id}/mailboxes/resolve?path=inbox/receipts")["code"] == \
        "NoSuchMailbox"
    assert api.get(f"/users/{user_id}/mailboxes/resolve")["code"] == "InputValidationError"
    # chalice local routes with RouteMatcher: the literal segment wins there too
    matched = RouteMatcher(list(app.routes)).match_route(
        f"/users/{user_id}/mailboxes/resolve?path=x")
    assert matched.route == "/users/{user}/mailboxes/resolve"


def test_rename_of_a_parent_renames_its_children(api, make_user):
    user_id = make_user("renamer")
    ids = {path: _create(api, user_id, path).json["id"]
           for path in ("Projects", "Projects/One", "Projects/One/Deep", "ProjectsOld")}
    reply = api.put(f"/users/{user_id}/mailboxes/{ids['Projects']}", {"path": "Archive/2024"})
    assert reply.status == 200, reply
    paths = set(_paths(api, user_id))
    assert {"Archive/2024", "Archive/2024/One", "Archive/2024/One/Deep", "ProjectsOld"} <= paths
    assert not {"Projects", "Projects/One", "Projects/One/Deep"} & paths
    # lookups moved with the items
    assert _resolve(api, user_id, "Archive/2024/One/Deep")["id"] == ids["Projects/One/Deep"]
    assert _resolve(api, user_id, "Projects/One").status == 404
    assert _create(api, user_id, "Projects/One").status == 200  # old path is free
    renames = [data for command, data in _journal(user_id) if command == "RENAME"]
    assert {(d["mailbox"], d["path"]) for d in renames} == {
        (ids["Projects"], "Archive/2024"), (ids["Projects/One"], "Archive/2024/One"),
        (ids["Projects/One/Deep"], "Archive/2024/One/Deep")}


def test_rename_of_a_large_tree_uses_transactions_of_at_most_100_operations(api, make_user):
    from chalicelib.services.mailboxes import MOVES_PER_TX

    user_id = make_user("bigtree")
    root = _create(api, user_id, "Root").json["id"]
    children = MOVES_PER_TX + 5
    for n in range(children):
        _create(api, user_id, f"Root/c{n:02d}")
    with counting() as calls:
        assert api.put(f"/users/{user_id}/mailboxes/{root}", {"path": "Moved"}).status == 200
    assert calls.count("dynamodb", "TransactWriteItems") == 2  # 4 ops a mailbox, <= 100 each
    paths = _paths(api, user_id)
    assert sum(1 for p in paths if p.startswith("Moved/")) == children
    assert not any(p.startswith("Root") for p in paths)
    seqs = [entry.seq for entry in JournalItem.query(user_id)]
    assert seqs == list(range(1, len(seqs) + 1))  # the journal stays gap-free


def test_interrupted_rename_completes_when_repeated(api, make_user, monkeypatch):
    """A large rename stopped after its first transaction leaves a consistent tree that
    the same request finishes."""
    from chalicelib.services import mailboxes
    from chalicelib.store.transact import TransactionFailed

    user_id = make_user("resumer")
    root = _create(api, user_id, "Old").json["id"]
    for n in range(mailboxes.MOVES_PER_TX + 3):
        _create(api, user_id, f"Old/{n:02d}")
    real_move = mailboxes._move
    moves_done = []

    def failing_second(*args, **kwargs):
        if moves_done:
            raise TransactionFailed(set(), conflict=False)
        moves_done.append(1)
        real_move(*args, **kwargs)

    monkeypatch.setattr(mailboxes, "_move", failing_second)
    assert api.put(f"/users/{user_id}/mailboxes/{root}", {"path": "New"}).status == 500
    monkeypatch.setattr(mailboxes, "_move", real_move)
    assert "Old" in _paths(api, user_id)  # the target moves last
    assert api.put(f"/users/{user_id}/mailboxes/{root}", {"path": "New"}).status == 200
    paths = _paths(api, user_id)
    assert not any(p.startswith("Old") for p in paths)
    assert sum(1 for p in paths if p.startswith("New/")) == mailboxes.MOVES_PER_TX + 3


def test_inbox_cannot_be_renamed_and_clashes_are_refused(api, make_user):
    user_id = make_user("guard")
    inbox = _resolve(api, user_id, "INBOX")["id"]
    reply = api.put(f"/users/{user_id}/mailboxes/{inbox}", {"path": "Elsewhere"})
    assert reply.status == 400 and reply["code"] == "DisallowedMailboxMethod"
    assert api.put(f"/users/{user_id}/mailboxes/{inbox}",
                   {"path": "inbox", "subscribed": True}).status == 200  # not a rename
    box = _create(api, user_id, "Mine").json["id"]
    _create(api, user_id, "Taken/Child")
    reply = api.put(f"/users/{user_id}/mailboxes/{box}", {"path": "Taken/Child"})
    assert reply.status == 400 and reply["code"] == "MailboxExistsError"
    reply = api.put(f"/users/{user_id}/mailboxes/{box}", {"path": "Mine/Inside"})
    assert reply.status == 400 and reply["code"] == "DisallowedMailboxMethod"
    # a child that would land on an existing path stops the rename before any write
    _create(api, user_id, "Mine/Sub")
    _create(api, user_id, "Other/Sub")
    reply = api.put(f"/users/{user_id}/mailboxes/{box}", {"path": "Other"})
    assert reply.status == 400 and reply["code"] == "MailboxExistsError"
    assert {"Mine", "Mine/Sub"} <= set(_paths(api, user_id))


def test_special_use_mailboxes_can_be_renamed(api, make_user):
    user_id = make_user("special")
    sent = _resolve(api, user_id, "Sent Mail")["id"]
    assert api.put(f"/users/{user_id}/mailboxes/{sent}", {"path": "Sent"}).status == 200
    assert api.get(f"/users/{user_id}/mailboxes/{sent}")["specialUse"] == "\\Sent"


def test_update_changes_retention_subscription_and_visibility(api, make_user):
    user_id = make_user("settings")
    box = _create(api, user_id, "Tuned").json["id"]
    reply = api.put(f"/users/{user_id}/mailboxes/{box}",
                    {"retention": 1000, "subscribed": "no", "hidden": "yes"})
    assert reply.status == 200
    one = api.get(f"/users/{user_id}/mailboxes/{box}").json
    assert (one["retention"], one["subscribed"], one["hidden"]) == (1000, False, True)
    # The reference renames no hidden mailbox; shown again, it can be renamed.
    reply = api.put(f"/users/{user_id}/mailboxes/{box}", {"path": "Tuned2", "retention": 0})
    assert reply.status == 400 and reply["code"] == "DisallowedMailboxMethod"
    assert reply["error"] == "Mailbox update failed with code DisallowedMailboxMethod"
    assert api.put(f"/users/{user_id}/mailboxes/{box}", {"hidden": False}).status == 200
    reply = api.put(f"/users/{user_id}/mailboxes/{box}", {"path": "Tuned2", "retention": 0})
    assert reply.status == 200
    one = api.get(f"/users/{user_id}/mailboxes/{box}").json
    assert (one["path"], one["retention"], one["hidden"]) == ("Tuned2", False, False)
    reply = api.put(f"/users/{user_id}/mailboxes/{box}", {"retention": -1})
    assert reply.status == 400 and "retention" in reply["details"]


def test_concurrent_creation_of_one_path_yields_one_mailbox(api, make_user, serialized_aws):
    """Six Lambda instances create the same path at once: exactly one wins."""
    from chalicelib.errors import MailboxExistsError
    from chalicelib.schemas.mailboxes import CreateMailbox
    from chalicelib.services import mailboxes

    user_id = make_user("racer")
    created, errors = race(6, lambda _: mailboxes.create(
        CreateMailbox(user=user_id, path="inbox/Race")))
    assert len(created) == 1
    assert len(errors) == 5 and all(isinstance(e, MailboxExistsError) for e in errors)
    assert [b.path for b in MailboxItem.query(user_id)].count("INBOX/Race") == 1
    assert UserItem.get(user_id).mailboxCount == len(DEFAULTS) + 1


def test_mailbox_limit_is_exact_under_concurrency(api, make_user, serialized_aws):
    """At 1499 mailboxes, two concurrent creations of different paths: one fits."""
    from chalicelib.errors import DisallowedMailboxMethod
    from chalicelib.schemas.mailboxes import CreateMailbox
    from chalicelib.services import mailboxes

    user_id = make_user("limited")
    UserItem.get(user_id).update(actions=[UserItem.mailboxCount.set(1499)])
    created, errors = race(2, lambda n: mailboxes.create(
        CreateMailbox(user=user_id, path=("One", "Two")[n])))
    assert len(created) == 1 and len(errors) == 1 and isinstance(errors[0], DisallowedMailboxMethod)
    assert UserItem.get(user_id).mailboxCount == 1500
    reply = _create(api, user_id, "Three")
    assert reply.status == 400 and reply["code"] == "DisallowedMailboxMethod"
    assert reply["error"] == ("Mailbox creation failed with code ReachedMailboxCountLimit. "
                              "Max mailboxes count reached.")


def test_create_and_delete_are_journaled(api, make_user):
    user_id = make_user("journaled")
    box = _create(api, user_id, "Temp").json["id"]
    assert api.delete(f"/users/{user_id}/mailboxes/{box}").status == 200
    assert _journal(user_id) == [("CREATE", {"mailbox": box, "path": "Temp"}),
                                 ("DELETE", {"mailbox": box})]


def test_deleting_a_mailbox_releases_quota_queues_purge_and_removes_its_filters(api, make_user):
    user_id = make_user("deleter")
    box = _create(api, user_id, "Doomed").json["id"]
    keep = _create(api, user_id, "Kept").json["id"]
    MailboxItem.get(user_id, box).update(actions=[MailboxItem.size.set(5000),
                                                  MailboxItem.total.set(2)])
    UserItem.get(user_id).update(actions=[UserItem.storageUsed.set(7000)])
    for n, target in enumerate((box, keep, box)):
        FilterItem(user=user_id, id=f"{n:024x}", name=f"f{n}", criteria={"from": "x"},
                   action={"mailbox": target, "seen": True}, created=now_ms()).save()
    FilterItem(user=user_id, id="f" * 24, action={"seen": True}, created=now_ms()).save()

    assert api.delete(f"/users/{user_id}/mailboxes/{box}").status == 200

    assert api.get(f"/users/{user_id}/mailboxes/{box}")["code"] == "NoSuchMailbox"
    assert "Doomed" not in _paths(api, user_id)
    assert api.get(f"/users/{user_id}")["limits"]["quota"]["used"] == 2000
    assert sorted(f.id for f in FilterItem.query(user_id)) == [f"{1:024x}", "f" * 24]
    tasks = list(TaskItem.query(PURGE_MAILBOX))
    assert [(t.user, t.data.as_dict()) for t in tasks] == [
        (user_id, {"mailbox": box, "path": "Doomed"})]
    assert UserItem.get(user_id).mailboxCount == len(DEFAULTS) + 1
    with pytest.raises(LookupItem.DoesNotExist):
        LookupItem.get(mailbox_key(user_id, "Doomed"))
    assert _create(api, user_id, "Doomed").status == 200  # the path is free again


def test_inbox_and_special_use_mailboxes_cannot_be_deleted(api, make_user):
    user_id = make_user("protected")
    for path in ("INBOX", "Trash", "Sent Mail"):
        box = _resolve(api, user_id, path)["id"]
        reply = api.delete(f"/users/{user_id}/mailboxes/{box}")
        assert reply.status == 400 and reply["code"] == "DisallowedMailboxMethod"
    assert _paths(api, user_id) == DEFAULTS


def test_deleting_a_parent_keeps_its_children(api, make_user):
    user_id = make_user("orphans")
    parent = _create(api, user_id, "Parent").json["id"]
    _create(api, user_id, "Parent/Child")
    assert api.delete(f"/users/{user_id}/mailboxes/{parent}").status == 200
    assert "Parent/Child" in _paths(api, user_id)


def test_unknown_and_malformed_references_are_4xx(api, make_user):
    user_id = make_user("strict")
    missing = "0" * 24
    for method in ("get", "delete"):
        reply = getattr(api, method)(f"/users/{user_id}/mailboxes/{missing}")
        assert reply.status == 404 and reply["code"] == "NoSuchMailbox"
    assert api.put(f"/users/{user_id}/mailboxes/{missing}", {"path": "x"})["code"] == \
        "NoSuchMailbox"
    assert api.put(f"/users/{user_id}/mailboxes/{missing}", {"hidden": True})["code"] == \
        "NoSuchMailbox"
    assert api.get(f"/users/{missing}/mailboxes")["code"] == "UserNotFound"
    assert _create(api, missing, "x")["code"] == "UserNotFound"
    assert api.get(f"/users/{user_id}/mailboxes/not-an-id")["code"] == "InputValidationError"
    reply = _create(api, user_id, "x", colour="red")
    assert reply.status == 400 and reply["details"]["colour"] == '"colour" is not allowed'
    reply = api.call("POST", f"/users/{user_id}/mailboxes", raw=b"[1, 2]")
    assert reply.status == 400 and reply["code"] == "InputValidationError"


def test_a_deleted_accounts_mailboxes_are_gone(api, make_user):
    user_id = make_user("leaver")
    box = _resolve(api, user_id, "INBOX")["id"]
    assert api.delete(f"/users/{user_id}").status == 200
    assert api.get(f"/users/{user_id}/mailboxes")["code"] == "UserNotFound"
    assert api.get(f"/users/{user_id}/mailboxes/{box}")["code"] == "UserNotFound"
    assert _resolve(api, user_id, "INBOX")["code"] == "UserNotFound"


def test_rename_that_would_nest_a_child_too_deep_is_refused(api, make_user):
    user_id = make_user("toodeep")
    top = _create(api, user_id, "Top").json["id"]
    _create(api, user_id, "/".join(["Top"] + ["x"] * 127))  # exactly 128 levels
    reply = api.put(f"/users/{user_id}/mailboxes/{top}", {"path": "New/Top"})
    assert reply.status == 400 and reply["code"] == "InputValidationError"
    assert "Top" in _paths(api, user_id)


def test_rename_chunks_respect_both_the_operation_and_the_size_limits():
    """Paths of ~260 KB are written twice per move; DynamoDB's 4 MB per transaction
    splits such a rename long before the 100-operation limit does."""
    from chalicelib.services.mailboxes import MOVES_PER_TX, TX_BYTES_BUDGET, _chunks

    def box(path: str) -> MailboxItem:
        return MailboxItem(user="u" * 24, id=new_id(), path=path)

    tail = "/".join(["\U0001d11e" * 512] * 126)
    huge = [(box(f"R/{n}/{tail}"), f"S/{n}/{tail}") for n in range(6)]
    chunks = list(_chunks(huge))
    assert len(chunks) > 1 and sum(len(c) for c in chunks) == 6
    for chunk in chunks:
        assert sum(3 * len(new.encode()) for _, new in chunk) <= TX_BYTES_BUDGET
    small = [(box(f"R/{n}"), f"S/{n}") for n in range(MOVES_PER_TX + 1)]
    assert [len(c) for c in _chunks(small)] == [MOVES_PER_TX, 1]
