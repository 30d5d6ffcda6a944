"""GET /users/{user}/search over the index the messages stream keeps."""
from __future__ import annotations

from typing import Any


def subjects(reply: Any) -> list[str]:
    return [entry["subject"] for entry in reply["results"]]


def test_words_in_subject_body_and_addresses_are_found_folded(put, find, stream) -> None:
    put("Crème brûlée recipe", "Bake at 180 degrees")
    put("Meeting notes", "Über café", extra="Cc: Zoë Quinn <zoe@partner.test>")
    put("Unrelated", "nothing to see")
    stream.pump()
    assert subjects(find(query="CREME")) == ["Crème brûlée recipe"]
    assert subjects(find(query="degrees")) == ["Crème brûlée recipe"]
    assert subjects(find(query="uber CAFÉ")) == ["Meeting notes"]
    assert subjects(find(query="zoe")) == ["Meeting notes"]
    assert subjects(find(query="partner.test")) == ["Meeting notes"]
    assert sorted(subjects(find(query="sender"))) == ["Crème brûlée recipe", "Meeting notes",
                                                     "Unrelated"]
    none = find(query="absent")
    assert (none["total"], none["results"], none["nextCursor"]) == (0, [], False)


def test_all_words_must_match_and_phrases_and_exclusions_work(put, find, stream) -> None:
    put("one", "the quick brown fox")
    put("two", "brown quick the fox")
    put("three", "quick red fox")
    stream.pump()
    assert sorted(subjects(find(query="quick fox"))) == ["one", "three", "two"]
    assert sorted(subjects(find(query="quick brown"))) == ["one", "two"]
    reply = find(query='"quick brown"')
    assert (subjects(reply), reply["total"], reply["query"]) == (["one"], 1, '"quick brown"')
    assert sorted(subjects(find(query="fox -brown"))) == ["three"]
    assert sorted(subjects(find(query='fox -"brown quick"'))) == ["one", "three"]
    assert find(query="quick missing")["total"] == 0
