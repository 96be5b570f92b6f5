"""What a summary sentence says that its evidence does not: numbers, names, words, negation.

Word overlap alone passes a copied sentence with one fact changed ("17 people" where the source
says 12) or a negation added ("was not re-elected" against "was re-elected"): the rest of the
sentence still matches. So each claim is checked on its own:

- a number must occur in the source (`six` and `6`, `2,000`, `2000` and `2 thousand` are one),
  and the closest evidence sentence must not hold another number in its place (between the same
  neighbours): "17 people" against "12 people" fails even when 17 occurs elsewhere;
- a name (a capitalized content word that does not open the sentence, outside headlines) must
  occur in the source, a longer form counting ("Alex" for "Alexander"), and the closest evidence
  sentence must not hold another name in its place ("Helen Smith" against "Helen Okafor");
- a negation in the summary must negate a word that stands negated in the evidence, or, when
  the closest evidence sentence has none of the words it negates, that sentence must hold a
  negation of its own; and a negation of the evidence must not vanish from a summary that
  repeats the words around it;
- any other content word missing from the source is listed, but does not fail the sentence:
  paraphrase ("slams" for "criticised") is how genuine summaries are written.

Numbers and names are checked against the whole source, not only the evidence sentences: a
summary sentence often takes its subject's age or full name from another sentence. A failed
number, name or negation makes the sentence unsupported, whatever its overlap.
"""

from __future__ import annotations

from typing import Collection, Sequence

from .text import NEGATION, NUMBER, STOP, WORD, Token, is_negative_word

_WINDOW = 4  # how far a negation reaches: "was not re-elected", "did not have any funds"
_OPENERS = ':"“‘(.!?'  # a capital after these opens a sentence or quote; it need not be a name
_NEGATIVE_PREFIXES = ("un", "in", "im", "il", "ir", "non", "dis")
_DO = frozenset(("do", "does", "did"))


def unsupported(
    summary: str,
    tokens: Sequence[Token],
    evidence: Sequence[tuple[str, Sequence[Token]]],
    source_keys: Collection[str],
) -> tuple[list[str], bool]:
    """The unsupported items of one summary sentence (as written in it), and whether any of them
    is a number, a name or a negation that makes the sentence unsupported. `evidence` holds each
    cited sentence's source text and tokens; `source_keys` every key of the searched source."""
    names = _names(summary, tokens)
    items: list[str] = []
    hard = False
    for i, token in enumerate(tokens):
        surface = summary[token.start:token.end]
        if token.kind == NUMBER:
            if token.key == "1" and surface.isalpha():
                continue  # "one" is as often a pronoun as a number
            if token.key not in source_keys or _replaced(tokens, i, evidence, False, names):
                items.append(surface)
                hard = True
        elif i in names and token.kind == WORD:
            if not _known_name(token.key, source_keys) or _replaced(tokens, i, evidence, True, names):
                items.append(surface)
                hard = True
        elif token.kind == WORD and token.key not in source_keys:
            items.append(surface)
    for item in _negation_mismatches(summary, tokens, [t for _, t in evidence]):
        items.append(item)
        hard = True
    return list(dict.fromkeys(items)), hard


def _known_name(key: str, source_keys: Collection[str]) -> bool:
    """Whether the source has the name, or a longer form of it ("Alex" for "Alexander")."""
    return key in source_keys or (len(key) >= 3 and any(k.startswith(key) for k in source_keys))


def _replaced(
    tokens: Sequence[Token], i: int, evidence: Sequence[tuple[str, Sequence[Token]]], name: bool, names: Collection[int]
) -> bool:
    """Whether the closest evidence sentence holds another number (or, for a name, another name)
    where the summary has token `i`, between the same neighbours, and not this one there: "12
    people" against "17 people", "Helen Okafor cut" against "Helen Smith cut". Function words
    alone are no context ("in 2012 and"), unless capitalized ("May 2"). A name needs neighbours on
    both sides and must be missing from the sentence; so must a number with a neighbour on one
    side only ("Seventeen counts" against "Seventeen of the 30 counts")."""
    if not evidence:
        return False
    before = tokens[i - 1] if i > 0 else None
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    present = [(t, n) for t, n in ((before, i - 1), (after, i + 1)) if t is not None]
    if not any(t.kind != STOP or n in names for t, n in present) or (name and len(present) < 2):
        return False
    key, kind = tokens[i].key, tokens[i].kind
    text, sentence = evidence[0]
    if any(t.key == key for t in sentence) and (name or len(present) < 2):
        return False  # it is there, in another place: lists reorder ("John and Sarah")
    held = [
        other
        for j, other in enumerate(sentence)
        if other.kind == kind
        and (before is None or (j > 0 and sentence[j - 1].key == before.key))
        and (after is None or (j + 1 < len(sentence) and sentence[j + 1].key == after.key))
    ]
    if any(other.key == key for other in held):
        return False
    if not name:
        return bool(held)
    cased = any(c.isupper() for c in text[sentence[0].start:sentence[-1].end])
    return any(
        (text[other.start].isupper() or not cased)  # a name there too, when the source has case
        and not (other.key.startswith(key) or key.startswith(other.key))  # "Man" for "Manchester"
        for other in held
    )


def _names(summary: str, tokens: Sequence[Token]) -> set[int]:
    """Indices of the tokens that are names: capitalized, not opening a sentence or a quote, in a
    sentence that is not a headline (one whose function words are capitalized too: case says
    nothing there). Capitalized function words count ("May", "US"): they give a number or name
    its context, though only content words are checked as names."""
    function = [t for t in tokens[1:] if t.kind == STOP and t.end - t.start > 1]
    if function and 2 * sum(summary[t.start].isupper() for t in function) > len(function):
        return set()
    names = set()
    for i in range(1, len(tokens)):
        token = tokens[i]
        if token.kind == NUMBER or not summary[token.start].isupper():
            continue
        gap = summary[tokens[i - 1].end:token.start]
        if not any(c in gap for c in _OPENERS):
            names.add(i)
    return names


def _negation_mismatches(
    summary: str, tokens: Sequence[Token], evidence: Sequence[Sequence[Token]]
) -> list[str]:
    """`negation: not` for a negation the evidence lacks; `negation dropped: never` for one of the
    evidence that the summary leaves out while keeping the word it negated."""
    found = []
    for i, token in enumerate(tokens):
        if token.kind == NEGATION and not _backed(tokens, i, evidence):
            found.append(f"negation: {summary[token.start:token.end]}")
    for sentence in evidence:
        for i, token in enumerate(sentence):
            if token.kind == NEGATION and _dropped(sentence, i, tokens):
                found.append(f"negation dropped: {token.key}")
    return found


def _backed(tokens: Sequence[Token], i: int, evidence: Sequence[Sequence[Token]]) -> bool:
    """Whether the evidence negates what the summary's negation at `i` negates: a word it
    negates stands negated in the evidence ("not experienced" is backed by "inexperienced" as by
    "not experienced" or "failed to ..."), or, when the closest evidence sentence has none of
    those words, that sentence holds a negation of its own ("not a man" / "not a male")."""
    if not evidence:
        return False
    targets = _targets(tokens, i)
    negated = {prefix + t for t in targets for prefix in _NEGATIVE_PREFIXES}
    for sentence in evidence:
        for j, t in enumerate(sentence):
            if t.key in negated or (t.key in targets and _negated(sentence, j)):
                return True
    closest = evidence[0]
    return not any(t.key in targets for t in closest) and any(_is_cue(t) for t in closest)


def _dropped(sentence: Sequence[Token], i: int, tokens: Sequence[Token]) -> bool:
    """Whether the summary repeats the evidence around its negation at `i` without it: the word
    before and the words after up to the first content word ("was re-elected" against "was not
    re-elected", "he was around" against "he wasn't around"; "it plans" against "it doesn't
    plan", looking past the "does")."""
    if i == 0 or i + 1 >= len(sentence):
        return False
    after = []
    for t in sentence[i + 1:i + 1 + _WINDOW]:
        after.append(t.key)
        if t.kind == WORD or t.kind == NUMBER:
            break
    keys = [t.key for t in tokens]
    befores = [sentence[i - 1].key]
    if befores[0] in _DO and i > 1:
        befores.append(sentence[i - 2].key)
    return any(_occurs(keys, [before, *after]) for before in befores)


def _occurs(keys: Sequence[str], needle: Sequence[str]) -> list[int]:
    """Where `needle` occurs in `keys` as a contiguous run."""
    n = len(needle)
    return [j for j in range(len(keys) - n + 1) if keys[j:j + n] == needle]


def _targets(tokens: Sequence[Token], i: int) -> set[str]:
    """The content words within reach after the negation at `i`: what it negates ("no Anzac Day
    holiday" negates the holiday as much as the day)."""
    return {t.key for t in tokens[i + 1:i + 1 + _WINDOW] if t.kind == WORD or t.kind == NUMBER}


def _negated(tokens: Sequence[Token], j: int) -> bool:
    """Whether a negation (or a verb such as `failed`, `refused`) stands shortly before `j`."""
    return any(_is_cue(t) for t in tokens[max(0, j - _WINDOW - 1):j])


def _is_cue(token: Token) -> bool:
    return token.kind == NEGATION or is_negative_word(token.key)

