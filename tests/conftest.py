from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tiny_t5 import SAMPLES, build_tiny_t5
from trained_t5 import TASK_PARAMS, cached_trained_t5


@pytest.fixture(scope="session", autouse=True)
def converted_models_cache(tmp_path_factory) -> Iterator[Path]:
    """CTranslate2 conversions (the default backend converts on first use) go to a folder of
    this test run, never into the user's cache."""
    folder = tmp_path_factory.mktemp("summarizer-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUMMARIZER_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny T5 checkpoint folder, built once per test run, loaded only via --model DIR."""
    return build_tiny_t5(tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def t5_defaults_model_dir(tmp_path_factory) -> Path:
    """The tiny T5 with t5-small's real summarization defaults, so defaults like min_length 30
    and 4 beams are always exercised."""
    import json

    folder = build_tiny_t5(tmp_path_factory.mktemp("tiny-t5-small-defaults"))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["task_specific_params"] = {"summarization": dict(TASK_PARAMS)}  # t5-small's own
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def trained_model_dir() -> Path:
    """A tiny T5 trained to copy a text's first sentence, with peaked outputs; built once per
    recipe into $SUMMARIZER_TEST_CACHE (or ~/.cache/summarizer-tests) and reused."""
    return cached_trained_t5()


@pytest.fixture(scope="session")
def bart_model_dir(tmp_path_factory) -> Path:
    """A tiny BART checkpoint folder (bart-large-cnn's defaults), weights drawn at init_std 0.1
    rather than 0.02: at 0.02 a random BART writes the same summary for every input, which would
    make any "same tokens" check vacuous."""
    from families import build_bart

    return build_bart(tmp_path_factory.mktemp("tiny-bart"), shape={"init_std": 0.1})


@pytest.fixture(scope="session")
def pegasus_model_dir(tmp_path_factory) -> Path:
    """A tiny Pegasus checkpoint folder (pegasus-xsum's defaults), init_std 0.1 as the BART's."""
    from families import build_pegasus

    return build_pegasus(tmp_path_factory.mktemp("tiny-pegasus"), shape={"init_std": 0.1})


@pytest.fixture(scope="session")
def led_model_dir(tmp_path_factory) -> Path:
    """A tiny LED checkpoint folder (led-large-16384-arxiv's defaults)."""
    from families import build_led

    return build_led(tmp_path_factory.mktemp("tiny-led"))


@pytest.fixture(scope="session")
def long_t5_model_dir(tmp_path_factory) -> Path:
    """A tiny LongT5 checkpoint folder (transient-global attention)."""
    from families import build_long_t5

    return build_long_t5(tmp_path_factory.mktemp("tiny-long-t5"))


@pytest.fixture(scope="session")
def trained_bart_dir() -> Path:
    """A tiny BART trained to copy a text's first sentence, with bart-large-cnn's generation
    defaults; built once per recipe into $SUMMARIZER_TEST_CACHE (or ~/.cache/summarizer-tests)."""
    from trained_bart import cached_trained_bart

    return cached_trained_bart()


# --- the families only tests/test_families.py needs (each built once per session) ----------------


@pytest.fixture(scope="session")
def family_flan_t5_dir(tmp_path_factory) -> Path:
    """A tiny Flan-T5 (gated-GELU T5Config, model_type "t5"): no task prefix, no defaults of its own."""
    from families import build_t5_variant

    return build_t5_variant(tmp_path_factory.mktemp("family-flan-t5"), "flan-t5")


@pytest.fixture(scope="session")
def family_mt5_dir(tmp_path_factory) -> Path:
    """A tiny mT5 checkpoint folder."""
    from families import build_t5_variant

    return build_t5_variant(tmp_path_factory.mktemp("family-mt5"), "mt5")


@pytest.fixture(scope="session")
def family_umt5_dir(tmp_path_factory) -> Path:
    """A tiny UMT5 checkpoint folder."""
    from families import build_t5_variant

    return build_t5_variant(tmp_path_factory.mktemp("family-umt5"), "umt5")


@pytest.fixture(scope="session")
def family_mbart_dir(tmp_path_factory) -> Path:
    """A tiny mBART (en_XX forced at the start, bart-large-cnn's lengths)."""
    from families import build_mbart

    return build_mbart(tmp_path_factory.mktemp("family-mbart"))


@pytest.fixture(scope="session")
def family_pegasus_x_dir(tmp_path_factory) -> Path:
    from families import build_pegasus_x

    return build_pegasus_x(tmp_path_factory.mktemp("family-pegasus-x"))


@pytest.fixture(scope="session")
def family_gpt2_dir(tmp_path_factory) -> Path:
    """A decoder-only model, which summarize refuses."""
    from families import build_gpt2

    return build_gpt2(tmp_path_factory.mktemp("family-gpt2"))


@pytest.fixture(scope="session")
def family_bert_dir(tmp_path_factory) -> Path:
    """An encoder-only model, which summarize refuses."""
    from families import build_bert

    return build_bert(tmp_path_factory.mktemp("family-bert"))


@pytest.fixture(scope="session")
def family_bart_eager_eos_dir(tmp_path_factory) -> Path:
    """The tiny BART (bart-large-cnn's defaults, init_std 0.1) with a +8 logit bias on </s>, so
    left to itself it ends the summary at once: a min_length that is not applied shows as an
    empty summary. (The plain random BART never ends before max_length, so with it a min_length
    check cannot fail.)"""
    import torch
    from transformers import BartForConditionalGeneration

    from families import build_bart

    folder = build_bart(tmp_path_factory.mktemp("family-bart-eager-eos"), shape={"init_std": 0.1})
    model = BartForConditionalGeneration.from_pretrained(folder)
    with torch.no_grad():
        model.final_logits_bias[0, 2] += 8.0  # </s>
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def family_led_global_dir(tmp_path_factory) -> Path:
    """The tiny LED with weights drawn at init_std 1.0: at the default 0.02 (and at 0.1) its
    greedy tokens do not depend on the input, so global attention could not change them."""
    import torch
    from transformers import GenerationConfig, LEDConfig, LEDForConditionalGeneration

    from families import build_led, edit_config

    folder = build_led(tmp_path_factory.mktemp("family-led-global"))
    edit_config(folder, lambda data: data.update(init_std=1.0))
    torch.manual_seed(0)
    model = LEDForConditionalGeneration(LEDConfig.from_pretrained(folder))
    model.generation_config = GenerationConfig.from_pretrained(folder)  # led-large-16384-arxiv's defaults
    model.save_pretrained(folder)
    return folder
