"""Words as the evidence checker compares them, whatever the casing and tokenization.

Models detokenize differently from their input (`it ' s` / `it 's` / `it's` / `it’s`, `nepal .` /
`nepal.`, `-lrb- 3.7 miles -rrb-` / `(3.7 miles)`, `6km` / `6 km`), so a summary is never matched to
its source as strings. Both texts go through one tokenizer that keeps only runs of letters,
initialisms and numbers (punctuation, brackets and the tokenized `-lrb-` forms drop out), and each
word becomes a key: case-folded, accents stripped, `n't`/`cannot` -> `not`, `U.S.` -> `us`, number
words -> digits (`six` -> `6`), `2,000` -> `2000`, `£3m`/`3 million`/`3,000,000` -> `3000000`, and a
light suffix stem (`studies`/`studied` -> `study`).

The stemmer is a handful of suffix rules written here rather than nltk's Porter stemmer: importing
nltk takes about 1.7 s, more than grounding a whole document, and the rules only need to make the
summary's and the source's forms of a word meet, not to find linguistic roots.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

# Kinds of token. A key's kind decides what a missing key means (see claims.py).
WORD, NUMBER, STOP, NEGATION = range(4)

_TOKEN = re.compile(r"[^\W\d_](?:\.[^\W\d_])+\.?|[^\W\d_]+|\d+(?:[.,:]\d+)*|%")  # U.S. | word | 2,000 | %
_APOSTROPHES = "'’"
_BRACKETS = frozenset("lrb rrb lsb rsb lcb rcb".split())  # tokenized -lrb- -rrb- ...: punctuation

# Strong cues: each one negates what follows it.
NEGATIONS = frozenset("not no never none nobody nothing neither nor nowhere".split())
# Words whose meaning carries a negation: they answer for a summary's `not` ("failed to win" /
# "did not win") but are not themselves counted as negations a summary may not add or drop:
# "without" is as often a paraphrase ("homes without the shop" for "homes elsewhere").
NEGATIVE_WORDS = ("fail", "unable", "refus", "deny", "deni", "lack", "declin", "without")

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split()
    )
} | {w: str(10 * i) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_SCALES = {"k": 10**3, "thousand": 10**3, "m": 10**6, "mn": 10**6, "million": 10**6, "b": 10**9, "bn": 10**9,
           "billion": 10**9, "tn": 10**12, "trillion": 10**12}  # after a number: "25k", "3.6 million"
# Words whose key or kind depends on their neighbours (see `_contextual`).
_CONTEXTUAL = _BRACKETS | set(_SCALES) | {"t", "cannot", "cent", "no", "only"}
_BEFORE_NT = {"ca": "can", "wo": "will", "sha": "shall", "ai": "is"}

# Function words: they join content but carry no claim of their own. Number words are not here
# (they are claims), nor are the negations (claims.py reads them).
STOPWORDS = frozenset(
    """a an the and or but if then than so as of at by for from in into on onto to with within
    about above across after against along among around before behind below beneath beside
    between beyond during except inside near off out outside over past since through throughout
    till toward towards under until up upon via
    i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves one's
    this that these those who whom whose which what whatever whoever when where why how
    all any both each either every few many more most much other others some such own same
    am is are was were be been being have has had having do does did doing done
    will would shall should can could may might must ought
    s t d ll m re ve th st nd rd
    also just only very too quite rather really even still yet ever already again else
    here there now then thus hence however although though because while whereas whether
    let ok oh yes""".split()
)


class Token(NamedTuple):
    """One word of a text: its comparison key, kind, and where it stands in the text."""

    key: str
    kind: int
    start: int
    end: int


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """The tokens of `text[start:end]`, offsets into `text` (no slicing: cheap on long texts)."""
    out: list[Token] = []
    for match in _TOKEN.finditer(text, start, len(text) if end is None else end):
        word = match.group()
        first = word[0]
        if first == "%":
            out.append(Token("percent", WORD, match.start(), match.end()))
        elif first.isdigit():
            out.append(Token(_number_key(word), NUMBER, match.start(), match.end()))
        else:
            key, kind = word_key(word)
            if key in _CONTEXTUAL:
                _contextual(text, match, key, kind, out)
            else:
                out.append(Token(key, kind, match.start(), match.end()))
    return out


def keys(text: str, start: int = 0, end: int | None = None) -> list[tuple[str, int]]:
    """(key, kind) of each token of `text[start:end]`, as `tokenize` gives them, at a third of its
    cost: one `findall` and a dictionary lookup per word. A text holding a word whose meaning
    depends on its neighbours (a negation, `n't`, `m` after a number...) goes through `tokenize`."""
    words = _TOKEN.findall(text, start, len(text) if end is None else end)
    if len(_KNOWN) > _KNOWN_LIMIT:
        _KNOWN.clear()
        _NEIGHBOURLY.clear()
    known = _KNOWN.get
    found = [known(word) or _learn(word) for word in words]
    if not _NEIGHBOURLY.isdisjoint(words):
        return [(t.key, t.kind) for t in tokenize(text, start, end)]
    return found


_KNOWN: dict[str, tuple[str, int]] = {}  # raw word -> (key, kind), for `keys`
_NEIGHBOURLY: set[str] = set()  # raw words whose key needs their neighbours
_KNOWN_LIMIT = 1 << 18


def _learn(word: str) -> tuple[str, int]:
    if word == "%":
        found = ("percent", WORD)
    elif word[0].isdigit():
        found = (_number_key(word), NUMBER)
    else:
        found = word_key(word)
        if found[0] in _CONTEXTUAL or found[1] == NEGATION:
            _NEIGHBOURLY.add(word)
    _KNOWN[word] = found
    return found


def _contextual(text: str, match: re.Match, key: str, kind: int, out: list[Token]) -> None:
    """Append the token for a word whose meaning depends on its neighbours."""
    start, end = match.span()
    previous = out[-1] if out else None
    if key in _BRACKETS:
        return
    if key == "t" and start > 1 and text[start - 1] in _APOSTROPHES and text[start - 2] in "nN":
        # n't, written "don't" or tokenized "do n't": the word before loses its n, this is "not"
        if previous is not None and previous.end == start - 1:
            out.pop()
            head = text[previous.start:previous.end - 1]
            if head:
                head_key, head_kind = word_key(head)
                out.append(Token(head_key, head_kind, previous.start, previous.end - 1))
        if out and out[-1].key in _BEFORE_NT:
            out[-1] = out[-1]._replace(key=_BEFORE_NT[out[-1].key], kind=STOP)
        out.append(Token("not", NEGATION, start - 2, end))
        return
    if key == "cannot":
        out.append(Token("can", STOP, start, start + 3))
        out.append(Token("not", NEGATION, start + 3, end))
        return
    if previous is not None and previous.kind == NUMBER and key in _SCALES:
        out[-1] = previous._replace(key=_scaled(previous.key, _SCALES[key]))
        kind = STOP  # "25k", "25,000" and "25 thousand" are one number
    elif key == "cent" and previous is not None and previous.key == "per":
        out[-1] = previous._replace(kind=STOP)
        key, kind = "percent", WORD
    elif key == "no" and _next_is_digit(text, end):
        kind = STOP  # "No 2 under Johnston", "No. 10": a rank, not a negation
    elif key == "only" and previous is not None and previous.key == "not":
        out[-1] = previous._replace(kind=STOP)  # "not only ... but": no negation
    out.append(Token(key, kind, start, end))


@lru_cache(maxsize=1 << 16)
def word_key(word: str) -> tuple[str, int]:
    """The comparison key and kind of one run of letters, or of an initialism (`U.S.` -> `us`)."""
    folded = _fold(word)
    if "." in folded:
        return folded.replace(".", ""), WORD
    if folded in NEGATIONS:
        return folded, NEGATION
    if folded in _NUMBER_WORDS:
        return _NUMBER_WORDS[folded], NUMBER
    if folded in STOPWORDS or folded in _BEFORE_NT:
        return folded, STOP
    return stem(folded), WORD


def is_negative_word(key: str) -> bool:
    """Whether a word key means a negation ("failed", "unable", "refused", "without")."""
    return key.startswith(NEGATIVE_WORDS)


def stem(word: str) -> str:
    """A light suffix stem: enough that `studies`, `studied`, `study` or `plays`, `played`,
    `playing` meet, never shorter than three letters."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3:
        return word
    if word.endswith("eed") and len(word) > 5:
        word = word[:-1]  # agreed -> agree (then -> agre, as agree is)
    for suffix, replacement in _SUFFIXES:
        if (
            word.endswith(suffix)
            and len(word) - len(suffix) + len(replacement) >= 3
            and not (suffix == "ed" and word[-3] == "e")  # speed, agreed
            and not (suffix == "s" and word[-2] in "sui")  # loss, famous, crisis
        ):
            word = word[: len(word) - len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # stopped -> stop, running -> run
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]  # make/making -> mak, house/houses -> hous
    return word


_SUFFIXES = (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ings", ""), ("ing", ""), ("ed", ""), ("es", "e"), ("s", ""))
_IRREGULAR = {  # word -> the stem of its regular form ("took" -> stem("take"))
    "said": "say", "says": "say", "told": "tell", "went": "go", "gone": "go", "came": "com",
    "took": "tak", "taken": "tak", "made": "mak", "found": "find", "died": "die", "dies": "die",
    "children": "child", "women": "woman", "men": "man", "news": "news", "series": "series",
}


def _fold(word: str) -> str:
    """Case-fold and strip accents (`Zürich` -> `zurich`): models drop diacritics now and then."""
    folded = word.casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _number_key(number: str) -> str:
    """`2,000` -> `2000`, `07` -> `7`, `3.50` -> `3.5`: one key per value however it is written."""
    if "," in number and re.fullmatch(r"\d{1,3}(?:,\d{3})+", number):
        number = number.replace(",", "")
    if "." in number and re.fullmatch(r"\d+\.\d+", number):
        whole, frac = number.split(".")
        frac = frac.rstrip("0")
        return (whole.lstrip("0") or "0") + ("." + frac if frac else "")
    return (number.lstrip("0") or "0") if number.isdigit() else number


def _scaled(number: str, factor: int) -> str:
    """`3.6` and a million -> `3600000`; a number that is not a plain decimal stays as it is."""
    try:
        value = float(number) * factor
    except ValueError:
        return number
    return str(int(value)) if value == int(value) else str(value)


def _next_is_digit(text: str, pos: int) -> bool:
    """Whether the next non-space, non-period character is a digit (`No 2`, `No. 10`)."""
    while pos < len(text) and text[pos] in " .":
        pos += 1
    return pos < len(text) and text[pos].isdigit()
