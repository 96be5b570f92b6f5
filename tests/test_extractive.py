"""Extractive baselines on texts of known structure: lead, TextRank, and the budgeted pick."""

from __future__ import annotations

import pytest

from summarizer.methods.extractive import lead, select_within_budget, textrank, textrank_scores

# One sentence shares words with every on-topic sentence; two sentences share words with nothing.
CENTRAL = "The river flood damaged the bridge, the farms and the school in the valley."
ON_TOPIC = [
    "Engineers inspected the bridge after the river rose.",
    "Farms along the river lost their harvest to the flood.",
    "The school in the valley closed while the flood receded.",
    "Volunteers rebuilt the valley farms and repaired the school.",
]
OFF_TOPIC = ["Jazz musicians performed downtown on Saturday.", "Chess tournaments attract grandmasters worldwide."]
DOCUMENT = " ".join([ON_TOPIC[0], OFF_TOPIC[0], ON_TOPIC[1], CENTRAL, ON_TOPIC[2], OFF_TOPIC[1], ON_TOPIC[3]])


def test_lead_takes_exactly_the_first_sentences():
    assert lead(DOCUMENT, 2) == [ON_TOPIC[0], OFF_TOPIC[0]]
    assert lead(DOCUMENT, 1) == [ON_TOPIC[0]]
    assert lead("Only one here.", 3) == ["Only one here."]
    assert lead("") == []


def test_textrank_ranks_the_central_sentence_first_and_never_the_off_topic_ones():
    sentences = [ON_TOPIC[0], OFF_TOPIC[0], ON_TOPIC[1], CENTRAL, ON_TOPIC[2], OFF_TOPIC[1], ON_TOPIC[3]]
    scores = textrank_scores(sentences)
    assert max(range(len(scores)), key=scores.__getitem__) == 3
    assert sum(scores) == pytest.approx(1.0)
    assert textrank(DOCUMENT, 1) == [CENTRAL]
    picked = textrank(DOCUMENT, 5)
    assert CENTRAL in picked and not set(OFF_TOPIC) & set(picked)


def test_textrank_returns_sentences_in_document_order():
    picked = textrank(DOCUMENT, 3)
    positions = [DOCUMENT.index(sentence) for sentence in picked]
    assert len(picked) == 3 and positions == sorted(positions)


def test_asking_for_more_sentences_than_exist_returns_them_all():
    assert textrank(DOCUMENT, 50) == lead(DOCUMENT, 50)
    assert len(textrank(DOCUMENT, 50)) == 7


def test_degenerate_inputs():
    assert textrank("") == [] and textrank_scores([]) == []
    assert textrank("Just one sentence.", 3) == ["Just one sentence."]
    assert textrank_scores(["Just one sentence."]) == [1.0]
    same = "The bridge reopened. " * 4
    assert textrank(same, 2) == ["The bridge reopened.", "The bridge reopened."]
    assert textrank_scores(["The bridge reopened."] * 4) == pytest.approx([0.25] * 4)


def test_stop_words_and_punctuation_only_fall_back_to_lead_order():
    text = "It is what it is. And so on! ... ?! Was it?"
    assert textrank(text, 2) == lead(text, 2)
    # A sentence without content words among normal ones simply links to nothing.
    mixed = [CENTRAL, "And so it is.", ON_TOPIC[0]]
    scores = textrank_scores(mixed)
    assert scores[1] == min(scores)


def test_textrank_is_deterministic():
    assert textrank(DOCUMENT, 3) == textrank(DOCUMENT, 3)


def test_a_sentence_count_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        lead(DOCUMENT, 0)
    with pytest.raises(ValueError, match="at least 1"):
        textrank(DOCUMENT, -2)


def test_select_within_budget_takes_the_best_that_fit_in_document_order():
    scores = [0.1, 0.4, 0.3, 0.2]
    costs = [5, 6, 5, 4]
    # 1 (6) fits, 2 (5) fits, 3 (4) would make 15 > 12: skipped; 0 (5) too.
    assert select_within_budget(scores, costs, 12) == [1, 2]
    # A big best sentence is skipped; cheaper ones below it still fill the room.
    assert select_within_budget([0.9, 0.5, 0.4], [100, 3, 3], 10) == [1, 2]
    assert select_within_budget(scores, costs, 100) == [0, 1, 2, 3]
    assert select_within_budget(scores, costs, 0) == []
    assert select_within_budget([], [], 10) == []


def test_select_within_budget_breaks_ties_by_document_order():
    assert select_within_budget([0.5, 0.5, 0.5], [4, 4, 4], 8) == [0, 1]


def test_select_within_budget_refuses_mismatched_input():
    with pytest.raises(ValueError, match="one per sentence"):
        select_within_budget([0.1, 0.2], [3], 10)
    with pytest.raises(ValueError, match="budget"):
        select_within_budget([0.1], [3], -1)
