import pytest

from chalicelib.mail import compose_message, normalize_subject, parse_message, thread_key_candidates


@pytest.fixture(autouse=True)
def aws():
    """The mail layer never touches AWS: skip the per-test moto account of tests/conftest.py."""
    yield


@pytest.mark.parametrize(
    "subject,expected",
    [
        ("Hello", "Hello"),
        ("Re: Hello", "Hello"),
        ("RE: re: Re:Hello", "Hello"),
        ("Fwd: Re: Hello", "Hello"),
        ("FW: Hello", "Hello"),
        ("Re[2]: Hello", "Hello"),
        ("Re(3): Hello", "Hello"),
        ("AW: WG: Hallo", "Hallo"),
        ("SV: VS: Hei", "Hei"),
        ("[dev-list] Re: Release plan", "Release plan"),
        ("Re: [dev-list] Release plan", "Release plan"),
        ("[dev-list] Release plan", "Release plan"),
        ("Hello (fwd)", "Hello"),
        ("  Re:   spaced    out  ", "spaced out"),
        ("回复：会议", "会议"),
        ("Re: Re: ", ""),
        ("", ""),
        ("Regarding the plan", "Regarding the plan"),
        ("Resume: Jane Doe", "Resume: Jane Doe"),
        ("Re: Fwd: [x] [y] AW: Final", "Final"),
    ],
)
def test_normalize_subject_strips_reply_and_forward_prefixes(subject, expected):
    assert normalize_subject(subject) == expected


def test_normalize_subject_keeps_case_of_the_topic():
    assert normalize_subject("RE: Quarterly REPORT") == "Quarterly REPORT"


def test_thread_key_candidates_are_reply_parent_then_references_then_own_id():
    raw = (
        b"Message-ID: <c@x>\r\nIn-Reply-To: <b@x>\r\n"
        b"References: <root@x> <a@x> <b@x>\r\nSubject: Re: topic\r\n\r\nbody"
    )
    assert thread_key_candidates(parse_message(raw)) == ["<b@x>", "<a@x>", "<root@x>", "<c@x>"]


def test_thread_key_candidates_of_a_first_message_is_its_own_id():
    raw = compose_message(from_={"name": "", "address": "a@example.com"}, subject="New topic", text="x")
    parsed = parse_message(raw)
    assert thread_key_candidates(parsed) == [parsed.message_id]


def test_thread_key_candidates_without_any_ids_is_empty():
    assert thread_key_candidates(parse_message(b"Subject: x\r\n\r\nbody")) == []
