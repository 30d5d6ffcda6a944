"""Messages as today's web mail reads and writes them: markAsSeen, empty address
fields left out, `data:` images in an uploaded html body, replaceCidLinks."""
from __future__ import annotations

import base64

from tests.support import simple_message, upload_raw

PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")).decode()


def _counters(api, account):
    box = api.get(f"/users/{account.id}/mailboxes/{account.inbox}")
    return box["total"], box["unseen"]


def test_opening_with_mark_as_seen_marks_it_once(api, account):
    uid = upload_raw(api, account, simple_message(), query="unseen=true")["message"]["id"]
    assert _counters(api, account) == (1, 1)
    path = f"{account.messages()}/{uid}"
    plain = api.get(path)
    assert plain.status == 200 and plain["seen"] is False  # reading alone changes nothing
    opened = api.get(f"{path}?markAsSeen=true&sess=web-1&ip=192.0.2.1")
    assert opened.status == 200 and opened["seen"] is True
    assert _counters(api, account) == (1, 0)
    assert api.get(f"{path}?markAsSeen=true")["seen"] is True
    events = [e["action"] for e in api.get(f"{path}/events")["events"]]
    assert events.count("FLAGS") == 1


def test_empty_cc_bcc_reply_to_are_left_out_of_the_message(api, account):
    uid = upload_raw(api, account, simple_message())["message"]["id"]
    shown = api.get(f"{account.messages()}/{uid}").json
    assert not {"cc", "bcc", "replyTo"} & set(shown)
    listed = api.get(account.messages())["results"][0]
    assert (listed["cc"], listed["bcc"]) == ([], [])  # listings keep them, as the reference

    uid = api.post(account.messages(), {
        "from": {"name": "Me", "address": "me@example.com"},
        "to": [{"address": "you@example.com"}], "cc": [{"address": "cc@example.com"}],
        "replyTo": {"address": "answers@example.com"}, "subject": "Full",
        "text": "body"})["message"]["id"]
    shown = api.get(f"{account.messages()}/{uid}").json
    assert shown["cc"] == [{"name": "", "address": "cc@example.com"}]
    assert shown["replyTo"] == [{"name": "", "address": "answers@example.com"}]
    assert "bcc" not in shown


def test_data_images_in_html_become_inline_attachments(api, account):
    html = (f'<p>Look</p><img alt="dot" src="data:image/png;base64,{PIXEL}" '
            f'data-filename="dot.png"><img src=\'data:image/gif;base64,R0lGODlhAQABAAAAACw=\'>'
            '<img src="https://example.com/remote.png">')
    reply = api.post(account.messages(), {
        "from": {"address": "me@example.com"}, "to": [{"address": "you@example.com"}],
        "subject": "Pasted", "html": html, "sess": "s", "ip": "127.0.0.1"})
    assert reply.status == 200, reply
    uid = reply["message"]["id"]
    shown = api.get(f"{account.messages()}/{uid}").json
    attachments = shown["attachments"]
    assert [(a["contentType"], a["disposition"], a["related"], a["filename"])
            for a in attachments] == [("image/png", "inline", True, "dot.png"),
                                      ("image/gif", "inline", True, None)]
    assert all(a["cid"].endswith("@example.com") for a in attachments)
    body = shown["html"][0]
    assert "data:" not in body and "data-filename" not in body
    assert "attachment:ATT00001" in body and "attachment:ATT00002" in body
    assert "https://example.com/remote.png" in body
    image = api.get(f"{account.messages()}/{uid}/attachments/ATT00001")
    assert image.status == 200 and image.raw == base64.b64decode(PIXEL)
    source = api.get(f"{account.messages()}/{uid}/message.eml").raw
    assert b"multipart/related" in source and b"data:image" not in source

    linked = api.get(f"{account.messages()}/{uid}?replaceCidLinks=true")["html"][0]
    assert f"{account.messages()}/{uid}/attachments/ATT00001" in linked


def test_a_malformed_data_url_is_kept_as_it_is(api, account):
    html = '<img src="data:image/png;base64,@@not base64@@">'
    uid = api.post(account.messages(), {"to": [{"address": "you@example.com"}],
                                        "html": html})["message"]["id"]
    shown = api.get(f"{account.messages()}/{uid}").json
    assert shown["attachments"] == [] and "data:image/png" in shown["html"][0]
