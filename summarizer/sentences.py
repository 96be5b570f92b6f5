"""Split a document into sentences, for cased prose and for lowercased, tokenized datasets alike.

Our own rule set, not pysbd: on the tokenized, lowercased text that CNN/DailyMail and XSum ship
(`it ' s a deal , he said . we ' ll see .`) pysbd merges sentences, because it leans on
capitalization, and it splits about 17 KB a second, so a 5 MB document would take minutes. These
rules run one regex pass over the text plus a few checks per candidate sentence end: linear time.

The rules. A blank line always ends a sentence, as does the line of a `# heading`, and a new list
item (`1.`, `2)`, `-`, `*`) starts one. Otherwise a sentence may end at a whitespace-separated word
that ends in `.`, `!`, `?` or `…` (closing quotes and brackets, and the tokenized closers `''` and
`-rrb-`, stay with it); whether it does depends on that word and on the next one:

- `!` / `?` and ordinary words ending in `.` end a sentence, unless the document is cased and
  the next word starts in lowercase (`"Stop!" she said`, `approx. five`);
- a `.` standing alone (`strong .`) always ends one: tokenizers split off only final periods;
- an ellipsis ends one only before a capitalized word in a cased document (`Wait... what?`);
- titles and Latin abbreviations (`Mr.`, `Dr.`, `e.g.`) never do, nor does a list number at
  the start of a line (`1.`);
- `etc.`, `Inc.`, `Jr.` end one before a capitalized word; initialisms (`U.S.`, `p.m.`, `J.`)
  only before a capitalized word that usually opens a sentence (`the U.S. He left` but
  `the U.S. Army`). In a lowercased document neither does: tokenized datasets detach a final
  period (`the u.s. .`), and in untokenized lowercased text the case would be a guess.

A document counts as cased when the words after plain sentence ends (and its first word) are
more often capitalized than not.
"""

from __future__ import annotations

import re

_TERMINALS = "[.!?…]"
_CLOSERS = "[\"'”’»)\\]}]"
_OPENERS = "\"'“‘«([{`¿¡"
# Closing tokens that tokenized datasets write as words of their own after the period.
_SPACED_CLOSER = r"(?:''|-rrb-|-rsb-|-rcb-)"

# A whitespace-separated word that ends in terminal punctuation: (word before it)(punct)(closers).
_CANDIDATE = re.compile(rf"(?<!\S)(\S*?)({_TERMINALS}+){_CLOSERS}*(?=\s|\Z)")
_SPACED_CLOSERS = re.compile(rf"(?:\s+{_SPACED_CLOSER}(?=\s|\Z))*")
_NEXT_WORD = re.compile(r"\s*(\S{0,40})")
_LETTERS = re.compile(r"[^\W\d_]+")
_INITIALISM = re.compile(r"(?:[^\W\d_]\.)*[^\W\d_]")
_LIST_NUMBER = re.compile(r"\d{1,3}")
_LINE_MARKUP = " \t#>*-+•"

# Hard breaks: a blank line, the line break before a list item, the start and end of a heading.
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_LIST_ITEM = re.compile(r"\n(?=[ \t]*(?:[-*•+]|\d{1,3}[.)])[ \t]+\S)")
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t][^\n]*", re.MULTILINE)

_NEVER_FINAL = frozenset(
    "mr mrs ms dr prof rev hon gen col lt sgt capt cmdr adm gov sen rep pres st mt ft messrs "
    "mme mlle e.g i.e cf viz vs approx fig figs eq ca".split()
)
_OFTEN_FINAL = frozenset("etc inc ltd co corp jr sr plc llc al bros".split())
_AMBIGUOUS = frozenset("no nos jan feb mar apr jun jul aug sep sept oct nov dec".split())
_STARTERS = frozenset(
    "the a an he she it they we i you this that these those there his her its their our my "
    "but however in on at for after before when while if as so then yet also meanwhile".split()
)
_COMPLETE = re.compile(rf"{_TERMINALS}{_CLOSERS}*(?:\s+{_SPACED_CLOSER})*\Z")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character [start, end) of each sentence, in order, without surrounding whitespace."""
    candidates = _candidates(text)
    cased = _is_cased(text, candidates)
    cuts = {
        end
        for end, rule, case in candidates
        if rule == _ALWAYS
        or (rule == _BEFORE_UPPER and cased and case == _UPPER)
        or (rule == _UNLESS_LOWER and not (cased and case == _LOWER))
    }
    cuts.update(_hard_breaks(text))
    cuts.add(len(text))
    spans = []
    start = 0
    for cut in sorted(cuts):
        segment = text[start:cut]
        stripped = segment.strip()
        if stripped:
            lead = len(segment) - len(segment.lstrip())
            spans.append((start + lead, start + lead + len(stripped)))
        start = cut
    return spans


_WORD = re.compile(r"\w+(?:['’.\-]\w+)*")
# Closing punctuation after a word, spaced or not (`nepal.` and the tokenized `nepal .`).
_TRAILING_PUNCTUATION = re.compile(r"(?:\s*[.,;:!?…)\]}”’»'\"]+(?=\s|\Z))*|[^\w\s]*")


def count_words(text: str) -> int:
    """Words as people count them: runs of letters and digits, with inner apostrophes, hyphens
    and dots (`don't`, `e-mail`, `U.S`); punctuation is no word, however it is spaced
    (`nepal .` and `nepal.` are one word each)."""
    return sum(1 for _ in _WORD.finditer(text))


def cut_back(text: str, max_words: int | None = None, max_sentences: int | None = None, *,
             whole_sentences: bool = False, stopped: bool = False) -> tuple[str, str | None]:
    """A summary brought within `max_words` words and `max_sentences` sentences, and a note when
    it could not be cut as asked.

    Words are cut after a whole word (with the punctuation that sticks to it). When sentences
    are asked for (`max_sentences`, or `whole_sentences`) and the summary was cut here or
    `stopped` by its length limit, it ends on its last complete sentence; one with no complete
    sentence is kept as is, and the note says so."""
    cut = False
    if max_sentences is not None:
        spans = sentence_spans(text)
        if len(spans) > max_sentences:
            text, cut = text[: spans[max_sentences - 1][1]], True
    if max_words is not None:
        words = list(_WORD.finditer(text))
        if len(words) > max_words:
            end = _TRAILING_PUNCTUATION.match(text, words[max_words - 1].end()).end()
            text, cut = text[:end], True
    if not (max_sentences is not None or whole_sentences) or not (cut or stopped):
        return text, None
    complete = cut_to_complete(text)
    if complete is None:
        return text, "the summary has no complete sentence to cut back to; kept as is"
    return complete, None


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, in order (see `sentence_spans`)."""
    return [text[start:end] for start, end in sentence_spans(text)]


def is_complete(sentence: str) -> bool:
    """Whether `sentence` ends in terminal punctuation (optionally then closing quotes/brackets)."""
    return _COMPLETE.search(sentence.rstrip()) is not None


# How a candidate decides, once the document's casing is known (see the module docstring).
_ALWAYS, _NEVER, _BEFORE_UPPER, _UNLESS_LOWER = range(4)
_UPPER, _LOWER, _CASELESS = range(3)


def cut_to_complete(text: str) -> str | None:
    """`text` up to the end of its last complete sentence: the text itself when it already ends
    on one, None when it has no complete sentence at all.

    Made for a summary that a length limit stopped: inside its unfinished last sentence, any
    terminal punctuation that is not an abbreviation or a list number counts as an end, even
    before a lowercase word (what follows it is the part the limit cut off).
    """
    spans = sentence_spans(text)
    if not spans or is_complete(text[spans[-1][0]:spans[-1][1]]):
        return text
    start, end = spans[-1]
    inner = [m.end() for m in _CANDIDATE.finditer(text, start, end)
             if _rule(text, m, _NEXT_WORD.match(text, m.end()).group(1)) != _NEVER]
    if inner:
        return text[: inner[-1]]
    ends = [e for s_, e in spans[:-1] if is_complete(text[s_:e])]
    return text[: ends[-1]] if ends else None


def _candidates(text: str) -> list[tuple[int, int, int]]:
    """(end offset, rule, case of the next word) for every word ending in terminal punctuation.

    The rule depends only on the words themselves, so each candidate is looked at once.
    """
    found = []
    for match in _CANDIDATE.finditer(text):
        end = _SPACED_CLOSERS.match(text, match.end()).end()
        nxt = _NEXT_WORD.match(text, end).group(1)
        found.append((end, _rule(text, match, nxt), _case(nxt)))
    return found


def _rule(text: str, match: re.Match, nxt: str) -> int:
    """Which of the module docstring's rules this candidate follows."""
    prev, punct = match.group(1), match.group(2)
    if not nxt or (punct == "." and not prev):
        return _ALWAYS
    if "!" in punct or "?" in punct:
        return _UNLESS_LOWER
    if "…" in punct or len(punct) >= 3:
        return _BEFORE_UPPER
    if _is_list_number(text, match.start(), prev):
        return _NEVER
    key = prev.lstrip(_OPENERS).lower()
    if key in _NEVER_FINAL:
        return _NEVER
    if key in _OFTEN_FINAL:
        return _BEFORE_UPPER
    if key in _AMBIGUOUS or _INITIALISM.fullmatch(key):
        starter = _LETTERS.match(nxt.lstrip(_OPENERS))
        return _BEFORE_UPPER if starter and starter.group().lower() in _STARTERS else _NEVER
    return _UNLESS_LOWER


def _case(word: str) -> int:
    """The case of the word's first alphanumeric character (digits and CJK have none)."""
    for char in word:
        if char.isalnum():
            return _UPPER if char.isupper() else _LOWER if char.islower() else _CASELESS
    return _CASELESS


def _is_cased(text: str, candidates: list[tuple[int, int, int]]) -> bool:
    """Whether this document capitalizes sentence starts: its first word and plain ends vote."""
    votes = [_case(_NEXT_WORD.match(text).group(1))]
    votes += [case for _, rule, case in candidates if rule != _NEVER and rule != _BEFORE_UPPER]
    return votes.count(_UPPER) >= max(1, votes.count(_LOWER))


def _is_list_number(text: str, start: int, word: str) -> bool:
    """A short number that opens its line (after markup such as '#' or '-'): `1. Open the box.`"""
    if not _LIST_NUMBER.fullmatch(word):
        return False
    i = start - 1
    while i >= 0 and text[i] in _LINE_MARKUP:
        i -= 1
    return i < 0 or text[i] in "\r\n"


def _hard_breaks(text: str) -> list[int]:
    """Offsets where a sentence ends whatever the punctuation says."""
    breaks = [m.start() for m in _BLANK_LINE.finditer(text)]
    breaks += [m.start() for m in _LIST_ITEM.finditer(text)]
    for heading in _HEADING.finditer(text):
        breaks += [heading.start(), heading.end()]
    return breaks
