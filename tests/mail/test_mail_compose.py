import base64
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest

from chalicelib.mail import attachment_bytes, compose_message, parse_message


@pytest.fixture(autouse=True)
def aws():
    """The mail layer never touches AWS: skip the per-test moto account of tests/conftest.py."""
    yield


ALICE = {"name": "Alice", "address": "alice@example.com"}
BOB = {"name": "Bob", "address": "bob@example.org"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def structure(raw: bytes) -> list[str]:
    return [part.get_content_type() for part in message_from_bytes(raw, policy=policy.default).walk()]


def test_text_only_message_is_a_single_text_part():
    raw = compose_message(from_=ALICE, to=[BOB], subject="Hi", text="Hello Bob")

    assert structure(raw) == ["text/plain"]
    assert parse_message(raw).text == "Hello Bob"


def test_html_only_message_is_a_single_html_part():
    raw = compose_message(from_=ALICE, to=[BOB], html="<p>Hello</p>")

    assert structure(raw) == ["text/html"]
    parsed = parse_message(raw)
    assert (parsed.text, parsed.html) == ("", ["<p>Hello</p>"])


def test_text_and_html_compose_as_multipart_alternative():
    raw = compose_message(from_=ALICE, to=[BOB], subject="Hi", text="Hello", html="<b>Hello</b>")

    assert structure(raw) == ["multipart/alternative", "text/plain", "text/html"]


def test_attachments_make_multipart_mixed_in_given_order():
    raw = compose_message(
        from_=ALICE,
        to=[BOB],
        text="See files",
        attachments=[
            {"filename": "a.pdf", "contentType": "application/pdf", "content": b64(b"%PDF-1.4 a")},
            {"filename": "b.csv", "content": b64(b"x,y\n1,2\n")},
        ],
    )

    assert structure(raw) == ["multipart/mixed", "text/plain", "application/pdf", "text/csv"]
    parsed = parse_message(raw)
    assert [(a.id, a.filename, a.content_type, a.disposition) for a in parsed.attachments] == [
        ("ATT00001", "a.pdf", "application/pdf", "attachment"),
        ("ATT00002", "b.csv", "text/csv", "attachment"),
    ]
    assert attachment_bytes(raw, "ATT00002")[0] == b"x,y\n1,2\n"


def test_cid_attachment_goes_next_to_html_in_multipart_related():
    raw = compose_message(
        from_=ALICE,
        to=[BOB],
        text="Logo below",
        html='<p>Logo: <img src="cid:logo@x"></p>',
        attachments=[
            {"filename": "logo.png", "contentType": "image/png", "content": b64(b"\x89PNG data"), "cid": "logo@x"},
            {"filename": "terms.pdf", "contentType": "application/pdf", "content": b64(b"%PDF")},
        ],
    )

    assert structure(raw) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "application/pdf",
    ]
    logo, terms = parse_message(raw).attachments
    assert (logo.content_id, logo.disposition, logo.part) == ("logo@x", "inline", "1.2.2")
    assert (terms.content_id, terms.part) == (None, "2")


def test_cid_attachment_without_html_is_a_plain_attachment():
    raw = compose_message(
        from_=ALICE,
        text="no html",
        attachments=[{"filename": "i.png", "content": b64(b"img"), "cid": "i@x", "contentDisposition": "attachment"}],
    )
    assert structure(raw) == ["multipart/mixed", "text/plain", "image/png"]
    assert parse_message(raw).attachments[0].content_id == "i@x"


def test_compose_round_trips_unicode_through_parse():
    sent = datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    text = "Grüße aus Köln 👋\nЗдравствуйте, 世界!\n" + "long line " * 30
    raw = compose_message(
        from_={"name": "Jörg Müller, Jr.", "address": "jorg@example.de"},
        to=[{"name": "李雷", "address": "li@example.cn"}, {"name": "", "address": "plain@example.com"}],
        cc=[{"name": 'Quote "Q" Person', "address": "q@example.com"}],
        bcc=[{"name": "Hidden Ångström", "address": "hidden@example.com"}],
        reply_to=[{"name": "Équipe", "address": "team@example.fr"}],
        subject="Ünïcödé subject ✓ " + "with many words " * 8,
        text=text,
        html="<p>Grüße <b>世界</b></p>",
        attachments=[{"filename": "Résumé 简历.pdf", "contentType": "application/pdf", "content": b64(b"%PDF-1.7 \xff\x00")}],
        date=sent,
        message_id_domain="mail.example.de",
    )
    parsed = parse_message(raw)

    assert parsed.from_ == {"name": "Jörg Müller, Jr.", "address": "jorg@example.de"}
    assert parsed.to == [{"name": "李雷", "address": "li@example.cn"}, {"name": "", "address": "plain@example.com"}]
    assert parsed.cc == [{"name": 'Quote "Q" Person', "address": "q@example.com"}]
    assert parsed.bcc == [{"name": "Hidden Ångström", "address": "hidden@example.com"}]
    assert parsed.reply_to == [{"name": "Équipe", "address": "team@example.fr"}]
    assert parsed.subject == ("Ünïcödé subject ✓ " + "with many words " * 8).strip()
    assert parsed.text == text
    assert parsed.html == ["<p>Grüße <b>世界</b></p>"]
    assert parsed.date == sent
    assert parsed.message_id.endswith("@mail.example.de>")
    (attachment,) = parsed.attachments
    assert attachment.filename == "Résumé 简历.pdf"
    assert attachment_bytes(raw, "ATT00001") == (b"%PDF-1.7 \xff\x00", "application/pdf", "Résumé 简历.pdf")


def test_compose_output_is_7bit_clean_with_crlf_and_short_lines():
    raw = compose_message(
        from_={"name": "Zoë", "address": "zoe@example.com"},
        to=[BOB],
        subject="Ça marche — très bien " * 5,
        text="ünïcode " * 40,
        html="<p>" + "ü" * 500 + "</p>",
    )

    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_generated_headers_are_present():
    raw = compose_message(from_=ALICE, to=[BOB], text="x", message_id_domain="example.net")
    message = message_from_bytes(raw, policy=policy.default)

    assert message["MIME-Version"] == "1.0"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@example.net>")
    assert message["Date"]
    assert parse_message(raw).date is not None


def test_message_id_domain_defaults_to_sender_domain():
    raw = compose_message(from_=ALICE, text="x")
    assert parse_message(raw).message_id.endswith("@example.com>")


def test_naive_date_is_taken_as_utc():
    raw = compose_message(from_=ALICE, text="x", date=datetime(2024, 1, 2, 3, 4, 5))
    assert parse_message(raw).date == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_custom_headers_are_added_and_replace_generated_ones():
    raw = compose_message(
        from_=ALICE,
        to=[BOB],
        subject="Re: topic",
        text="reply",
        headers=[
            {"key": "X-Mailer", "value": "Wild Duck ü"},
            {"key": "In-Reply-To", "value": "<parent@example.org>"},
            {"key": "References", "value": "<root@example.org> <parent@example.org>"},
            {"key": "Message-ID", "value": "<fixed@example.com>"},
        ],
    )
    parsed = parse_message(raw)

    assert {"key": "x-mailer", "value": "Wild Duck ü"} in parsed.headers
    assert parsed.in_reply_to == "<parent@example.org>"
    assert parsed.references == ["<root@example.org>", "<parent@example.org>"]
    assert parsed.message_id == "<fixed@example.com>"
    assert [h["key"] for h in parsed.headers].count("message-id") == 1


def test_custom_header_newlines_cannot_inject_headers():
    raw = compose_message(from_=ALICE, text="x", headers=[{"key": "X-Note", "value": "a\r\nBcc: evil@example.com"}])
    parsed = parse_message(raw)

    assert parsed.bcc == []
    assert {"key": "x-note", "value": "a Bcc: evil@example.com"} in parsed.headers


def test_mime_structure_headers_cannot_be_overridden():
    raw = compose_message(from_=ALICE, text="x", headers=[{"key": "Content-Type", "value": "text/html"}])
    assert parse_message(raw).content_type["value"] == "text/plain"


def test_invalid_header_name_raises_value_error():
    with pytest.raises(ValueError):
        compose_message(from_=ALICE, text="x", headers=[{"key": "Bad Name:", "value": "v"}])


def test_address_without_at_raises_value_error():
    with pytest.raises(ValueError):
        compose_message(from_=ALICE, to=[{"name": "x", "address": "not-an-address"}], text="x")


def test_idn_domain_is_written_as_punycode():
    raw = compose_message(from_={"name": "", "address": "info@bücher.example"}, text="x")
    assert parse_message(raw).from_ == {"name": "", "address": "info@xn--bcher-kva.example"}


def test_attached_message_is_kept_unencoded():
    forwarded = b"From: x@example.com\r\nSubject: old\r\n\r\nold body\r\n"
    raw = compose_message(
        from_=ALICE,
        text="forwarding",
        attachments=[{"filename": "old.eml", "contentType": "message/rfc822", "content": b64(forwarded)}],
    )
    (attachment,) = parse_message(raw).attachments

    assert attachment.content_type == "message/rfc822"
    assert attachment.transfer_encoding == "7bit"
    data, _, _ = attachment_bytes(raw, "ATT00001")
    assert data.rstrip(b"\r\n") == forwarded.rstrip(b"\r\n")


def test_empty_message_still_composes():
    parsed = parse_message(compose_message())
    assert parsed.text == "" and parsed.subject == "" and parsed.from_ is None
    assert parsed.message_id.endswith("@localhost>")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ends with newline\n",
        "trailing spaces   \nand tabs\t\n",
        "From the start\n.\n..dots\n",
        "x" * 300,
        "中文内容，全是非拉丁字符。" * 20,
        "mixed ascii with one ü " * 10,
        "windows\r\nline\rendings",
    ],
    ids=["empty", "newline", "trailing-space", "from-and-dots", "long-line", "cjk", "mostly-ascii", "crlf"],
)
def test_text_body_round_trips_exactly(text):
    raw = compose_message(from_=ALICE, text=text, html="<p>x</p>")
    assert raw.isascii()
    assert parse_message(raw).text == text.replace("\r\n", "\n").replace("\r", "\n")


def test_non_ascii_local_part_is_written_as_utf8_header():
    raw = compose_message(from_={"name": "José", "address": "josé@example.com"}, text="hola")
    assert "From: José <josé@example.com>".encode() in raw
    assert parse_message(raw).from_ == {"name": "José", "address": "josé@example.com"}


def test_subject_keeps_inner_spacing_but_not_line_breaks():
    raw = compose_message(from_=ALICE, subject="two  spaces\nnext line\u2028sep", text="x")
    assert parse_message(raw).subject == "two  spaces next line sep"
