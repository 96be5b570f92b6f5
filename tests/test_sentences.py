"""The shared sentence splitter: cased prose, markup, and lowercased tokenized datasets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summarizer.sentences import cut_to_complete, is_complete, sentence_spans, split_sentences


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Mr. Smith met Mrs. Jones and Dr. Brown in the U.S. capital. They talked.",
            ["Mr. Smith met Mrs. Jones and Dr. Brown in the U.S. capital.", "They talked."],
        ),
        (
            "Bring fruit, e.g. apples, i.e. red ones, etc. and more. Then go.",
            ["Bring fruit, e.g. apples, i.e. red ones, etc. and more.", "Then go."],
        ),
        (
            "Prices rose 3.5 percent last year. Analysts were surprised.",
            ["Prices rose 3.5 percent last year.", "Analysts were surprised."],
        ),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("Wait... what? No way!", ["Wait... what?", "No way!"]),
        ("He paused… Then he spoke.", ["He paused…", "Then he spoke."]),
        ('"Really?" she asked. Yes! Fine.', ['"Really?" she asked.', "Yes!", "Fine."]),
        (
            "He moved to the U.S. He loved it. The U.S. Army agreed.",
            ["He moved to the U.S.", "He loved it.", "The U.S. Army agreed."],
        ),
        ("They sold pears, apples, etc. Then they left.", ["They sold pears, apples, etc.", "Then they left."]),
        ("We met at 5 p.m. The rain had stopped.", ["We met at 5 p.m.", "The rain had stopped."]),
        ("It came in No. 5 this year. I said no. Then we left.", ["It came in No. 5 this year.", "I said no.", "Then we left."]),
        ("Sales fell in 2020. 2021 was better.", ["Sales fell in 2020.", "2021 was better."]),
        ("A heading without a stop\n\nThe next paragraph.", ["A heading without a stop", "The next paragraph."]),
        ("A line that wraps\nin the middle. Next one.", ["A line that wraps\nin the middle.", "Next one."]),
        ("# Title\nFirst line of text. Second one.", ["# Title", "First line of text.", "Second one."]),
        ("## 1. Introduction\nText here.", ["## 1. Introduction", "Text here."]),
        (
            "Steps:\n1. Open the box.\n2. Take it out.\n3) Done",
            ["Steps:", "1. Open the box.", "2. Take it out.", "3) Done"],
        ),
        ("Buy:\n- milk\n- bread\n* eggs", ["Buy:", "- milk", "- bread", "* eggs"]),
        ("Windows line ends.\r\n\r\nNext paragraph", ["Windows line ends.", "Next paragraph"]),
    ],
)
def test_cased_text(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "the u.s. economy grew 3.5 % in the third quarter . officials said the figure was strong .",
            ["the u.s. economy grew 3.5 % in the third quarter .", "officials said the figure was strong ."],
        ),
        (
            "the company -lrb- founded in 1990 -rrb- cut jobs . the union ' s leader said no .",
            ["the company -lrb- founded in 1990 -rrb- cut jobs .", "the union ' s leader said no ."],
        ),
        ("it ' s a deal , he said . we ' ll see .", ["it ' s a deal , he said .", "we ' ll see ."]),
        ("mr. smith went to washington . he met dr. jones there .", ["mr. smith went to washington .", "he met dr. jones there ."]),
        ("he said : `` this is great . '' the man left .", ["he said : `` this is great . ''", "the man left ."]),
        ("-lrb- cnn -rrb- -- the man left ! was he right ? nobody knows .", ["-lrb- cnn -rrb- -- the man left !", "was he right ?", "nobody knows ."]),
        ("wait ... what ? ok .", ["wait ... what ?", "ok ."]),
        ("it was late. he left. the u.s. team won.", ["it was late.", "he left.", "the u.s. team won."]),
    ],
)
def test_lowercased_tokenized_text(text, expected):
    assert split_sentences(text) == expected


def test_spans_point_into_the_text():
    text = "  One here.   Two there!\n\n  Three  "
    assert sentence_spans(text) == [(2, 11), (14, 24), (28, 33)]
    assert [text[a:b] for a, b in sentence_spans(text)] == ["One here.", "Two there!", "Three"]


def test_empty_and_blank_text_have_no_sentences():
    assert split_sentences("") == []
    assert split_sentences(" \n\n\t ") == []


def test_large_pathological_inputs_split_in_one_pass():
    # Quadratic scanning would take minutes on these; one pass takes well under a second.
    blob = "x" * 300_000
    assert split_sentences(blob + ". Then more.") == [blob + ".", "Then more."]
    assert len(split_sentences("Go. " * 100_000)) == 100_000
    assert len(split_sentences("One" + " " * 300_000 + "two. Three.")) == 2


@pytest.mark.parametrize(
    "sentence, complete",
    [
        ("It ended.", True),
        ("Did it?", True),
        ("Stop!  ", True),
        ("He paused…", True),
        ('He said "Stop."', True),
        ("(See the note.)", True),
        ("he said `` fine . ''", True),
        ("the figure was strong .", True),
        ("It ended and then", False),
        ("Costs rose 3.5", False),
        ("", False),
    ],
)
def test_is_complete(sentence, complete):
    assert is_complete(sentence) is complete


_PIECES = list("aZ1 .!?…\"')(#-\n\t\r\u00a0") + ["Mr.", "U.S.", "''", " . ", "-rrb-", "é", "日本"]
_PROSE = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), _PROSE))
def test_spans_are_ordered_stripped_and_cover_every_visible_character(text):
    spans = sentence_spans(text)
    assert spans == sentence_spans(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        sentence = text[start:end]
        assert sentence == sentence.strip(), "no surrounding whitespace"
        assert text[previous_end:start].isspace() or previous_end == start, "nothing visible dropped"
        previous_end = end
    assert not text[previous_end:].strip()
    assert split_sentences(text) == [text[a:b] for a, b in spans]


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("The bridge reopened. Riders were pleased with the", "The bridge reopened."),
        ("The bridge reopened. Riders were pleased.", "The bridge reopened. Riders were pleased."),
        ("the bridge reopened on monday and riders", None),
        ('He said "Stop." Then he left and', 'He said "Stop."'),
        ("the u.s. economy grew 3.5 % . officials said the", "the u.s. economy grew 3.5 % ."),
    ],
    ids=["mid-sentence", "ends-on-sentence", "no-complete-sentence", "quote", "lowercased-tokenized"],
)
def test_cut_to_complete(text, cut):
    assert cut_to_complete(text) == cut


def test_cut_to_complete_ends_before_a_lowercase_tail_the_limit_cut_off():
    assert cut_to_complete("A quarter are students. paul") == "A quarter are students."
    assert cut_to_complete("He met Dr. Smith and") is None, "an abbreviation is not an end"
