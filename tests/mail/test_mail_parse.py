import base64
import random
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chalicelib.mail import attachment_bytes, parse_message

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def aws():
    """The mail layer never touches AWS: skip the per-test moto account of tests/conftest.py."""
    yield


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


# --- structure -------------------------------------------------------------------------


def test_multipart_alternative_gives_text_and_html_list():
    parsed = parse_message(fixture("gmail_reply_alternative.eml"))

    assert parsed.text.startswith("Sounds good, see you at the café at 10.\n\nOn Mon")
    assert "> Shall we meet tomorrow?" in parsed.text
    assert len(parsed.html) == 1
    assert parsed.html[0].startswith('<div dir="ltr">Sounds good, see you at the café')
    assert parsed.attachments == []
    assert parsed.has_attachments is False
    assert parsed.content_type == {
        "value": "multipart/alternative",
        "params": {"boundary": "000000000000d1e2f30615a5b6c7"},
    }


def test_plain_message_has_text_and_empty_html_list():
    parsed = parse_message(crlf("From: a@example.com\nSubject: hi\n\nJust text.\n"))

    assert parsed.text == "Just text.\n"
    assert parsed.html == []
    assert parsed.content_type == {"value": "text/plain", "params": {}}


def test_gmail_reply_metadata_is_decoded():
    raw = fixture("gmail_reply_alternative.eml")
    parsed = parse_message(raw)

    assert parsed.from_ == {"name": "Alice Müller", "address": "alice@gmail.com"}
    assert parsed.to == [{"name": "Bob", "address": "bob@example.org"}]
    assert parsed.cc == [
        {"name": "Smith, Carol", "address": "carol@example.org"},
        {"name": "", "address": "dave@example.org"},
    ]
    assert parsed.subject == "Re: Café meeting ☕"
    assert parsed.message_id == "<CAFoo+bar=baz@mail.gmail.com>"
    assert parsed.in_reply_to == "<CAOld2@mail.gmail.com>"
    assert parsed.references == ["<CAOld1@mail.gmail.com>", "<CAOld2@mail.gmail.com>"]
    assert parsed.date == datetime(2024, 4, 9, 9, 11, 33, tzinfo=timezone.utc)
    assert parsed.size == len(raw)


def test_headers_list_keeps_order_and_decodes_values():
    parsed = parse_message(fixture("gmail_reply_alternative.eml"))

    keys = [header["key"] for header in parsed.headers]
    assert keys[:3] == ["delivered-to", "received", "mime-version"]
    assert {"key": "subject", "value": "Re: Café meeting ☕"} in parsed.headers
    references = next(h["value"] for h in parsed.headers if h["key"] == "references")
    assert "\n" not in references and "\r" not in references


def test_nested_mixed_lists_attachments_in_mime_order():
    raw = fixture("apple_nested_mixed.eml")
    parsed = parse_message(raw)

    assert parsed.text == "Report attached, chart inline.\n"
    assert parsed.html == [
        '<html><body>Report attached, chart inline.<img src="cid:chart@apple"></body></html>'
    ]
    assert [a.id for a in parsed.attachments] == ["ATT00001", "ATT00002", "ATT00003"]
    chart, report, csv = parsed.attachments
    assert (chart.filename, chart.content_type, chart.disposition) == ("chart.png", "image/png", "inline")
    assert chart.content_id == "chart@apple"
    assert chart.part == "1.2.2"
    assert chart.transfer_encoding == "base64"
    assert report.filename == "Quartalsbericht Übersicht – Q1.pdf"  # RFC 2231 continuation
    assert (report.content_type, report.disposition, report.part) == ("application/pdf", "attachment", "2")
    assert (csv.filename, csv.content_type, csv.part) == ("data.csv", "text/csv", "3")
    assert csv.transfer_encoding == "quoted-printable"
    assert parsed.has_attachments is True


def test_attachment_bytes_round_trip_matches_listed_sizes():
    raw = fixture("apple_nested_mixed.eml")
    parsed = parse_message(raw)

    chart = attachment_bytes(raw, "ATT00001")
    report = attachment_bytes(raw, "ATT00002")
    csv = attachment_bytes(raw, "ATT00003")
    assert chart[0].startswith(b"\x89PNG\r\n\x1a\n") and chart[1:] == ("image/png", "chart.png")
    assert report[0].startswith(b"%PDF-1.4") and report[2] == "Quartalsbericht Übersicht – Q1.pdf"
    assert csv[0] == "quarter,revenue\r\nQ1,1000€".encode()
    assert [len(data) for data, _, _ in (chart, report, csv)] == [a.size for a in parsed.attachments]


def test_attachment_bytes_of_unknown_id_raises_key_error():
    raw = fixture("apple_nested_mixed.eml")
    with pytest.raises(KeyError):
        attachment_bytes(raw, "ATT00004")
    with pytest.raises(KeyError):
        attachment_bytes(raw, "nope")


def _mixed(*parts: str, boundary: str = "b1") -> bytes:
    body = "".join(f"--{boundary}\n{part}\n" for part in parts)
    return crlf(
        "From: a@example.com\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n{body}--{boundary}--\n'
    )


def test_rfc2231_single_value_unicode_filename():
    raw = _mixed(
        "Content-Type: text/plain\n\nsee attached",
        "Content-Type: application/octet-stream\n"
        "Content-Disposition: attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A%20r%C3%A9sum%C3%A9.docx\n"
        "Content-Transfer-Encoding: base64\n\naGVsbG8=",
    )
    parsed = parse_message(raw)

    assert parsed.attachments[0].filename == "报告 résumé.docx"
    assert attachment_bytes(raw, "ATT00001") == (b"hello", "application/octet-stream", "报告 résumé.docx")


def test_encoded_word_and_raw_utf8_filenames_are_decoded():
    raw = _mixed(
        'Content-Type: application/pdf; name="=?UTF-8?B?0KHRh9C10YIucGRm?="\n'
        "Content-Disposition: attachment\nContent-Transfer-Encoding: base64\n\nJVBERg==",
        'Content-Type: image/jpeg\nContent-Disposition: attachment; filename="Grüße.jpg"\n'
        "Content-Transfer-Encoding: base64\n\n/9j/",
    )
    parsed = parse_message(raw)

    assert [a.filename for a in parsed.attachments] == ["Счет.pdf", "Grüße.jpg"]


def test_filename_path_components_are_dropped():
    raw = _mixed(
        'Content-Type: application/pdf\nContent-Disposition: attachment; filename="C:\\\\Users\\\\x\\\\a.pdf"\n\nx'
    )
    assert parse_message(raw).attachments[0].filename == "a.pdf"


def test_attachment_without_name_gets_id_based_filename_on_download():
    raw = _mixed("Content-Type: text/plain\n\nbody", "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw==")
    parsed = parse_message(raw)

    assert parsed.attachments[0].filename is None
    assert parsed.attachments[0].disposition is None
    assert attachment_bytes(raw, "ATT00001")[1:] == ("image/png", "ATT00001.png")


def test_text_parts_with_attachment_disposition_or_filename_are_attachments():
    raw = _mixed(
        "Content-Type: text/plain\n\nthe body",
        "Content-Type: text/plain\nContent-Disposition: attachment\n\nnot body 1",
        'Content-Type: text/plain; name="notes.txt"\nContent-Disposition: inline\n\nnot body 2',
        "Content-Type: text/html\nContent-Disposition: inline\n\n<p>body html</p>",
        "Content-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR",
    )
    parsed = parse_message(raw)

    assert parsed.text == "the body"
    assert parsed.html == ["<p>body html</p>"]
    assert [(a.content_type, a.filename) for a in parsed.attachments] == [
        ("text/plain", None),
        ("text/plain", "notes.txt"),
        ("text/calendar", None),
    ]


def test_several_text_parts_are_joined_in_order():
    raw = _mixed("Content-Type: text/plain\n\nfirst", "Content-Type: image/gif\n\nGIF89a", "Content-Type: text/plain\n\nsecond")
    assert parse_message(raw).text == "first\nsecond"


def test_forwarded_message_is_one_attachment_with_its_bytes():
    inner = "From: x@example.com\nSubject: inner\n\ninner body\nline 2"
    raw = _mixed("Content-Type: text/plain\n\nFYI", f'Content-Type: message/rfc822\nContent-Disposition: attachment; filename="fwd.eml"\n\n{inner}')
    parsed = parse_message(raw)

    assert parsed.text == "FYI"
    (attachment,) = parsed.attachments
    assert (attachment.content_type, attachment.filename, attachment.part) == ("message/rfc822", "fwd.eml", "2")
    data, content_type, _ = attachment_bytes(raw, "ATT00001")
    assert data == crlf(inner)
    assert attachment.size == len(data)


def test_single_part_non_text_message_is_its_own_attachment():
    raw = crlf("From: scanner@example.com\nContent-Type: application/pdf; name=scan.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n")
    parsed = parse_message(raw)

    assert parsed.text == "" and parsed.html == []
    assert [(a.id, a.part, a.filename, a.size) for a in parsed.attachments] == [("ATT00001", "1", "scan.pdf", 5)]


# --- charsets and encoded words --------------------------------------------------------

CHARSET_SAMPLES = [
    ("iso-8859-1", "Grüße aus Köln, ça va? Año"),
    ("windows-1252", "Price: 10€ – “quoted” and ‘single’…"),
    ("koi8-r", "Привет, мир! Съешь же ещё этих мягких булок"),
    ("shift_jis", "こんにちは、世界。メールのテスト"),
    ("iso-8859-2", "Zażółć gęślą jaźń"),
    ("gb2312", "你好，世界"),
]


@pytest.mark.parametrize("charset,text", CHARSET_SAMPLES)
@pytest.mark.parametrize("encoding", ["8bit", "quoted-printable", "base64"])
def test_legacy_charset_bodies_decode(charset, text, encoding):
    data = text.encode(charset)
    if encoding == "base64":
        body = base64.encodebytes(data)
    elif encoding == "quoted-printable":
        import quopri

        body = quopri.encodestring(data)
    else:
        body = data
    raw = (
        b"From: a@example.com\r\nSubject: charset\r\nMIME-Version: 1.0\r\n"
        + f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n".encode()
        + body
    )
    assert parse_message(raw).text.strip() == text


def test_iso_8859_1_label_reads_windows_1252_punctuation():
    raw = b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\n\x93smart\x94 \x80 caf\xe9"
    assert parse_message(raw).text == "“smart” € café"


def test_declared_legacy_charset_is_trusted_even_when_bytes_look_like_utf8():
    raw = b"Content-Type: text/plain; charset=windows-1252\r\n\r\n\xc3\xa9 \x81"
    assert parse_message(raw).text == "Ã© \x81"


def test_us_ascii_label_on_utf8_bytes_reads_utf8():
    raw = b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + "déjà vu".encode()
    assert parse_message(raw).text == "déjà vu"


def test_unknown_charset_falls_back_without_raising():
    utf8 = b"Content-Type: text/plain; charset=x-made-up\r\n\r\n" + "naïve".encode()
    latin = b"Content-Type: text/plain; charset=x-made-up\r\n\r\nna\xefve"
    bogus = b"Content-Type: text/plain; charset=base64\r\n\r\nplain"
    assert parse_message(utf8).text == "naïve"
    assert parse_message(latin).text == "naïve"
    assert parse_message(bogus).text == "plain"


def test_utf8_body_with_invalid_bytes_uses_replacement_character():
    raw = b"Content-Type: text/plain; charset=utf-8\r\n\r\nok \xff\xfe end"
    assert parse_message(raw).text == "ok \ufffd\ufffd end"


def test_8bit_body_without_charset_is_guessed():
    utf8 = b"Subject: x\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + "Grüße ✓".encode()
    latin = b"Subject: x\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdfe"
    assert parse_message(utf8).text == "Grüße ✓"
    assert parse_message(latin).text == "Grüße"


def test_html_without_charset_uses_meta_tag():
    raw = b'Content-Type: text/html\r\n\r\n<html><head><meta charset="koi8-r"></head><body>' + "Привет".encode("koi8-r") + b"</body></html>"
    assert "Привет" in parse_message(raw).html[0]


def test_encoded_word_subject_and_from_name_utf8_base64():
    raw = crlf(
        "From: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan@example.ru>\n"
        "Subject: =?UTF-8?B?0J7RgtGH0LXRgiDQt9CwINC80LDRgA==?=\n\nbody"
    )
    parsed = parse_message(raw)
    assert parsed.from_ == {"name": "Иван Петров", "address": "ivan@example.ru"}
    assert parsed.subject == "Отчет за мар"


def test_encoded_word_subject_and_from_name_iso_8859_1_quoted_printable():
    raw = crlf(
        "From: =?ISO-8859-1?Q?Andr=E9_M=FCller?= <andre@example.de>\n"
        "To: =?iso-8859-1?q?J=F6rg?= <jorg@example.de>, plain@example.de\n"
        "Subject: =?ISO-8859-1?Q?Pr=FCfung_bestanden?= - =?ISO-8859-1?Q?gl=FCckwunsch?=\n\nbody"
    )
    parsed = parse_message(raw)
    assert parsed.from_ == {"name": "André Müller", "address": "andre@example.de"}
    assert parsed.to == [{"name": "Jörg", "address": "jorg@example.de"}, {"name": "", "address": "plain@example.de"}]
    assert parsed.subject == "Prüfung bestanden - glückwunsch"


def test_adjacent_encoded_words_are_joined_even_when_a_character_is_split():
    euro = "€".encode()  # e2 82 ac, split over two encoded words
    first = base64.b64encode(b"Price 5" + euro[:1]).decode()
    second = base64.b64encode(euro[1:] + b" only").decode()
    raw = crlf(f"Subject: =?utf-8?B?{first}?=\n =?utf-8?B?{second}?=\n\nx")
    assert parse_message(raw).subject == "Price 5€ only"


def test_long_folded_subject_is_unfolded():
    raw = crlf("Subject: a very long subject line that\n goes on and on\n\tand on\n\nx")
    assert parse_message(raw).subject == "a very long subject line that goes on and on\tand on"


def test_raw_8bit_headers_are_decoded():
    raw = "From: Jürgen <j@example.de>\r\nSubject: Grüße\r\n\r\nx".encode()
    latin = b"Subject: Gr\xfc\xdfe\r\n\r\nx"
    parsed = parse_message(raw)
    assert parsed.subject == "Grüße"
    assert parsed.from_ == {"name": "Jürgen", "address": "j@example.de"}
    assert parse_message(latin).subject == "Grüße"


def test_broken_encoded_word_is_left_readable():
    raw = crlf("Subject: =?utf-8?B?###?= tail =?unknown-cs?Q?caf=E9?=\n\nx")
    subject = parse_message(raw).subject
    assert subject.endswith("tail café")


# --- addresses, ids and dates ----------------------------------------------------------


def test_address_groups_and_undisclosed_recipients():
    raw = crlf(
        "From: \"Doe, John (Sales)\" <john@example.com>\n"
        "To: undisclosed-recipients:;\n"
        "Cc: team: a@example.com, B <b@example.com>;, c@example.com\n"
        "Reply-To: <replies@example.com>\n\nx"
    )
    parsed = parse_message(raw)
    assert parsed.from_ == {"name": "Doe, John (Sales)", "address": "john@example.com"}
    assert parsed.to == []
    assert [c["address"] for c in parsed.cc] == ["a@example.com", "b@example.com", "c@example.com"]
    assert parsed.reply_to == [{"name": "", "address": "replies@example.com"}]


def test_missing_headers_give_empty_values():
    parsed = parse_message(b"\r\njust a body")
    assert parsed.from_ is None
    assert (parsed.to, parsed.cc, parsed.bcc, parsed.reply_to) == ([], [], [], [])
    assert parsed.subject == ""
    assert parsed.message_id is None and parsed.in_reply_to is None and parsed.references == []
    assert parsed.date is None
    assert parsed.list_id is None and parsed.auto_submitted is None and parsed.precedence is None
    assert parsed.list_unsubscribe is False


def test_message_without_date_has_no_date():
    assert parse_message(crlf("From: a@example.com\nSubject: s\n\nx")).date is None


def test_unparseable_date_is_none():
    assert parse_message(crlf("Date: yesterday-ish\n\nx")).date is None
    assert parse_message(crlf("Date: Thu, 99 Foo 99999 99:99:99 +9999\n\nx")).date is None


def test_date_is_converted_to_aware_utc():
    parsed = parse_message(crlf("Date: Tue, 9 Apr 2024 23:30:00 -0500\n\nx"))
    assert parsed.date == datetime(2024, 4, 10, 4, 30, tzinfo=timezone.utc)
    assert parse_message(crlf("Date: Tue, 9 Apr 2024 23:30:00 -0000\n\nx")).date.tzinfo == timezone.utc


def test_message_ids_are_bracketed_and_references_split():
    raw = crlf(
        "Message-ID: bare-id@example.com\n"
        "In-Reply-To: <parent@example.com> (Bob's message of Monday)\n"
        "References: <a@x> <b@x>\n <parent@example.com> <a@x>\n\nx"
    )
    parsed = parse_message(raw)
    assert parsed.message_id == "<bare-id@example.com>"
    assert parsed.in_reply_to == "<parent@example.com>"
    assert parsed.references == ["<a@x>", "<b@x>", "<parent@example.com>"]


def test_list_and_auto_reply_headers_are_exposed():
    raw = crlf(
        'List-Id: "Dev list" <dev.lists.example.org>\n'
        "List-Unsubscribe: <mailto:leave@lists.example.org>\n"
        "Auto-Submitted: Auto-Replied\nPrecedence: Bulk\n\nx"
    )
    parsed = parse_message(raw)
    assert parsed.list_id == "dev.lists.example.org"
    assert parsed.list_unsubscribe is True
    assert parsed.auto_submitted == "auto-replied"
    assert parsed.precedence == "bulk"


# --- intro and text shaping ------------------------------------------------------------


def test_intro_collapses_whitespace_and_cuts_with_ellipsis():
    text = "Hello   there,\n\n" + "word " * 60
    parsed = parse_message(crlf(f"Subject: x\n\n{text}"))
    assert parsed.intro.startswith("Hello there, word word")
    assert parsed.intro.endswith("…")
    assert len(parsed.intro) <= 129


def test_intro_short_text_is_not_cut():
    assert parse_message(crlf("Subject: x\n\n  short\n  message  ")).intro == "short message"


def test_intro_skips_quoted_lines_and_rulers():
    raw = crlf("Subject: x\n\n> old quoted text\n> more\n----------\nNew answer here")
    assert parse_message(raw).intro == "New answer here"


def test_intro_comes_from_html_when_there_is_no_text():
    html = "<html><head><style>p{color:red}</style><title>T</title></head><body><p>Hi&nbsp;&amp; welcome</p><script>x()</script></body></html>"
    raw = crlf(f"Content-Type: text/html; charset=utf-8\n\n{html}")
    parsed = parse_message(raw)
    assert parsed.text == ""
    assert parsed.intro == "Hi & welcome"


def test_format_flowed_text_is_unwrapped():
    body = "This is a long \nparagraph that \nwas wrapped.\n\n> quoted and \n> wrapped\n-- \nsig"
    raw = crlf(f"Content-Type: text/plain; charset=utf-8; format=flowed\n\n{body}")
    assert parse_message(raw).text == (
        "This is a long paragraph that was wrapped.\n\n> quoted and wrapped\n-- \nsig"
    )


def test_format_flowed_delsp_removes_the_soft_break_space():
    raw = crlf("Content-Type: text/plain; format=flowed; delsp=yes\n\nこんにちは \n世界")
    assert parse_message(raw).text == "こんにちは世界"


# --- robustness and size ---------------------------------------------------------------

MALFORMED = {
    "empty": b"",
    "garbage": bytes(range(256)) * 4,
    "headers_only": b"Subject: no body",
    "no_boundary_param": b"Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n",
    "missing_closing_boundary": b"Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nhi\r\n--q\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBO",
    "wrong_boundary": b"Content-Type: multipart/alternative; boundary=nothere\r\n\r\n--other\r\n\r\ntext\r\n--other--\r\n",
    "bad_base64": b"Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not*base64==\r\nQUJ\r\n--q--\r\n",
    "bad_qp": b"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=4=\r\n",
    "bad_params": b'Content-Type: text/plain; charset="; name*0*=bad\'\'%ZZ; ;;\r\nContent-Disposition: ;filename*=x\'\'%\r\n\r\nx',
    "nul_and_8bit_headers": b"Subject: \x00\xff\xfe=?utf-8?Q?=FF?=\r\nFrom: \xff <\xfe@\xfd>\r\nTo: \"unclosed <a@b.c>\r\n\r\n\xff",
    "header_without_colon": b"this is not a header\r\nSubject: s\r\n\r\nbody",
    "deep_nesting": b"".join(f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n".encode() for i in range(60)) + b"\r\nend",
    "uuencode_bad_charset": b"Content-Type: text/plain; charset=undefined\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\r\n#8\xcc6)C\r\n`\r\nend\r\n",
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_input_never_raises(raw):
    parsed = parse_message(raw)
    assert parsed.size == len(raw)
    for attachment in parsed.attachments:
        data, _, filename = attachment_bytes(raw, attachment.id)
        assert len(data) == attachment.size
        assert filename


def test_random_corruption_never_raises():
    seed = fixture("apple_nested_mixed.eml")
    rnd = random.Random(7)
    tokens = [b"\r\n", b"=?", b"?=", b"--", b"\x00", b"<", b">", b'"', b";", b"\xff", b"*0*=", b"\r\n\r\n"]
    for _ in range(150):
        data = bytearray(seed)
        for _ in range(rnd.randint(1, 6)):
            pos = rnd.randrange(len(data))
            choice = rnd.random()
            if choice < 0.3:
                del data[pos : pos + rnd.randint(1, 30)]
            elif choice < 0.6:
                data[pos] = rnd.randrange(256)
            else:
                data[pos:pos] = rnd.choice(tokens)
        raw = bytes(data)
        parsed = parse_message(raw)
        for attachment in parsed.attachments:
            assert len(attachment_bytes(raw, attachment.id)[0]) == attachment.size


def test_bad_base64_attachment_size_matches_extracted_bytes():
    raw = MALFORMED["bad_base64"]
    (attachment,) = parse_message(raw).attachments
    assert attachment.size == len(attachment_bytes(raw, "ATT00001")[0]) > 0


def test_ten_megabyte_attachment_size_and_bytes_round_trip():
    payload = random.Random(10).randbytes(10 * 1024 * 1024)
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    raw = (
        b"From: big@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="big"\r\n\r\n'
        b"--big\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
        b'--big\r\nContent-Type: application/zip; name="big.zip"\r\n'
        b'Content-Disposition: attachment; filename="big.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + encoded
        + b"\r\n--big--\r\n"
    )
    parsed = parse_message(raw)

    (attachment,) = parsed.attachments
    assert attachment.size == len(payload)
    assert parsed.text == "see attachment"
    data, content_type, filename = attachment_bytes(raw, "ATT00001")
    assert (content_type, filename) == ("application/zip", "big.zip")
    assert data == payload


def test_list_headers_read_as_wildduck_reads_addresses():
    from chalicelib.mail.parse import list_addresses
    assert list_addresses('"Dev, talk" <dev.example.org>') == [
        {"name": "Dev, talk", "address": "dev.example.org"}]
    assert list_addresses("=?utf-8?q?J=C3=BCrgen?= <j.example>") == [
        {"name": "Jürgen", "address": "j.example"}]
    assert list_addresses("<mailto:a@b.c>, <https://x.example/u?a=1,2>") == [
        {"name": "", "address": "mailto:a@b.c"},
        {"name": "", "address": "https://x.example/u?a=1,2"}]
    assert list_addresses("bare.example.org") == [{"name": "bare.example.org", "address": ""}]
    assert list_addresses("a@b.c") == [{"name": "", "address": "a@b.c"}]
    assert list_addresses("") == []
