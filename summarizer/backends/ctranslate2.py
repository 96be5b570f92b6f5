"""The CTranslate2 backend: the same token ids in and out, decoded by a converted copy of the model.

A checkpoint is converted once, at float32, into the summarizer cache and loaded from there on
later runs. The precision is picked when the model loads (CTranslate2 quantizes while loading), so
one conversion serves every device, --dtype and --quantize, and the cache key needs no precision.

Generation settings map one to one where CTranslate2 computes the same thing as transformers;
what it cannot reproduce is refused with a message naming the flag, never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from . import BackendError
from ..errors import first_line
from ..models.families import FAMILIES, OTHER

if TYPE_CHECKING:
    from ..config import GenerationSettings, RunSettings
    from ..device import Placement
    from ..models.loading import Checkpoint, LoadedModel

INSTALL_HINT = "the ctranslate2 backend needs the 'fast' extra: pip install 'summarizer[fast]'"
CONVERSION = "float32"  # how weights are stored in the cache; compute_type picks the precision at load
MODEL_FILE = "model.bin"  # a cached folder without it is incomplete and never loaded
# Bumped when a converted folder's contents change, so older conversions are not loaded.
# 2: generation.json, and the decoder start token transformers uses.
LAYOUT_VERSION = 2
_TEMP_SUFFIX = ".tmp"
# length ** 1e-30 is exactly 1.0 in float32 for any length, so scores stay unnormalized, but a
# nonzero penalty keeps CTranslate2's "stop once num_beams hypotheses finished" rule, which it
# otherwise swaps for "stop once the best beam finished" when the penalty is exactly 0.
_UNIT_LENGTH_PENALTY = 1e-30


def _ctranslate2() -> Any:
    try:
        import ctranslate2
    except ImportError:
        raise BackendError(INSTALL_HINT) from None
    return ctranslate2


# --- the conversion cache -------------------------------------------------------------------


def cache_root() -> Path:
    """`$SUMMARIZER_CACHE/ctranslate2`, else `$XDG_CACHE_HOME/summarizer/ctranslate2` (~/.cache)."""
    base = os.environ.get("SUMMARIZER_CACHE")
    if not base:
        base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"), "summarizer")
    return Path(base).expanduser() / "ctranslate2"


def _folder_fingerprint(folder: Path) -> dict[str, Any]:
    """config.json by content, every other file by name, size and mtime.

    Hashing gigabytes of weights on every run would cost seconds (more than loading the converted
    model); `save_pretrained` rewrites the files it saves, so any new checkpoint changes the stats.
    Tokenizer files count too: the converter builds CTranslate2's vocabulary from them.
    """
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return {
        "folder": str(folder),
        "config": hashlib.sha256((folder / "config.json").read_bytes()).hexdigest(),
        "files": [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files if p.name != "config.json"],
    }


def cache_key(loaded: "LoadedModel") -> str:
    """Folder name of the converted model: readable source name + hash of what identifies it."""
    folder = Path(loaded.name).expanduser()
    if folder.is_dir():
        folder = folder.resolve()
        source: dict[str, Any] = _folder_fingerprint(folder)
        label = folder.name
    else:
        source = {"hub": loaded.name, "revision": loaded.revision}
        label = loaded.name.replace("/", "--")
    identity = {**source, "conversion": CONVERSION, "layout": LAYOUT_VERSION}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"{label}-{digest[:16]}"


# How transformers lays out the BART-style families, which CTranslate2 4.8's converter reads from
# config attributes that transformers 5's configs no longer have: (normalize_before: pre-norm
# layers with a final layer norm, normalize_embedding: a layer norm right after the embeddings).
# These are the values transformers 4 checkpoints carried; the modeling code never read them.
_BART_LAYOUTS = {"bart": (False, True), "mbart": (True, True), "pegasus": (True, False)}
GENERATION_FILE = "generation.json"  # the checkpoint's start, forced-first and forced-last tokens


def convert_checkpoint(source: str, output_dir: Path, revision: str | None) -> None:
    """Run CTranslate2's transformers converter (a folder, or a hub id from the HF cache).

    The converted folder also gets the decoder start and forced tokens that transformers'
    `generate()` takes from the checkpoint's generation config (BART's forced <s>, mBART's
    language code, Pegasus's <pad> start): CTranslate2 has no forced tokens of its own, and its
    converter leaves mBART's start token to the caller.
    """
    converter = _converter_class()(source, revision=revision)
    converter.convert(str(output_dir), quantization=CONVERSION, force=True)
    tokens = converter.generation_tokens
    ct2_config = output_dir / "config.json"
    config = json.loads(ct2_config.read_text(encoding="utf-8"))
    config["decoder_start_token"] = tokens["decoder_start_token"]
    ct2_config.write_text(json.dumps(config, indent=2, sort_keys=True), encoding="utf-8")
    (output_dir / GENERATION_FILE).write_text(json.dumps(tokens, indent=2), encoding="utf-8")


def _converter_class() -> type:
    """CTranslate2's TransformersConverter, completing what it reads from the loaded model.

    Subclassing the converter's own loading hooks, rather than registering loaders, keeps the
    changes inside our conversion: the config attributes are set on this one loaded model.
    """
    from ctranslate2.converters import TransformersConverter

    from .torch import SPECIAL_TOKENS

    class Converter(TransformersConverter):
        generation_tokens: dict[str, str | None]

        def load_model(self, model_class, model_name_or_path, **kwargs):
            model = super().load_model(model_class, model_name_or_path, **kwargs)
            layout = _BART_LAYOUTS.get(model.config.model_type)
            if layout is not None:
                model.config.normalize_before, model.config.normalize_embedding = layout
            own = model.generation_config
            self._special = {key: getattr(own, key, None) for key in SPECIAL_TOKENS}
            return model

        def load_tokenizer(self, tokenizer_class, model_name_or_path, **kwargs):
            tokenizer = super().load_tokenizer(tokenizer_class, model_name_or_path, **kwargs)
            self.generation_tokens = _generation_tokens(self._special, tokenizer)
            return tokenizer

    return Converter


def _generation_tokens(special: dict[str, Any], tokenizer: Any) -> dict[str, str | None]:
    """The tokens `generate()` starts with and forces, as transformers picks them: the start
    token is decoder_start_token_id, else bos_token_id."""
    start = special["decoder_start_token_id"]
    if start is None:
        start = special["bos_token_id"]
    if start is None:
        raise ValueError("the checkpoint's generation config names no decoder start token")

    def token(value: Any) -> str | None:
        return None if value is None else tokenizer.convert_ids_to_tokens(int(value))

    return {
        "decoder_start_token": token(start),
        "forced_bos_token": token(special["forced_bos_token_id"]),
        "forced_eos_token": token(special["forced_eos_token_id"]),
    }


def _temp_dir(root: Path, key: str) -> Path:
    return root / f".{key}.{socket.gethostname()}.{os.getpid()}{_TEMP_SUFFIX}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_abandoned(root: Path, key: str) -> None:
    """Delete temp folders left by conversions whose process (on this host) has died.

    A live process's temp folder is left alone: it may be converting right now.
    """
    prefix = f".{key}.{socket.gethostname()}."
    for temp in root.iterdir():
        if not (temp.name.startswith(prefix) and temp.name.endswith(_TEMP_SUFFIX)):
            continue
        pid = temp.name[len(prefix) : -len(_TEMP_SUFFIX)]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(temp, ignore_errors=True)


def converted_model(loaded: "LoadedModel") -> Path:
    """The cached CTranslate2 copy of `loaded`, converting it first if no complete copy exists.

    Conversion writes into a temp folder in the cache and renames it into place, so a folder under
    the final name is always complete. When two processes race, the later rename fails and that
    process discards its copy and uses the winner's.
    """
    root = cache_root()
    key = cache_key(loaded)
    target = root / key
    if (target / MODEL_FILE).is_file():
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(root, key)
        if target.exists():  # no model.bin: damaged or not ours; never loaded, converted again
            shutil.rmtree(target)
    except OSError as exc:
        raise BackendError(f"cannot use the ctranslate2 cache {root}: {first_line(exc)}") from None

    temp = _temp_dir(root, key)
    folder = Path(loaded.name).expanduser()
    try:
        if folder.is_dir():
            convert_checkpoint(str(folder.resolve()), temp, None)
        else:
            convert_checkpoint(loaded.name, temp, loaded.revision)
    except Exception as exc:  # the converter runs the checkpoint's own loading code: any failure, one line
        shutil.rmtree(temp, ignore_errors=True)
        raise BackendError(f"cannot convert model {loaded.name!r} for ctranslate2: {first_line(exc)}") from None
    try:
        os.rename(temp, target)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        if not (target / MODEL_FILE).is_file():  # not a lost race: a real failure
            raise BackendError(f"cannot store the converted model in {target}: {first_line(exc)}") from None
    return target


# --- placement and precision ------------------------------------------------------------------


def compute_type(placement: "Placement", quantize: str | None, supported: set[str]) -> str:
    """CTranslate2's compute_type for a CPU or CUDA placement, refused where CTranslate2 would
    silently fall back to another one.

    int8 keeps the placement's float type for the layers it does not quantize: float32 on CPU,
    and on a GPU the bfloat16 that device.py prefers for T5 (or float16 where bf16 is missing).
    """
    wanted = f"int8_{placement.dtype}" if quantize == "int8" else placement.dtype
    if wanted not in supported:
        flag = f"--quantize int8 on {placement.device} with {placement.dtype}" if quantize else f"--dtype {placement.dtype}"
        options = ", ".join(sorted(supported))
        raise BackendError(f"{flag}: ctranslate2 cannot compute in {wanted} on this {placement.device} (it can: {options})")
    return wanted


def _supported_compute_types(ct2: Any, device: str) -> set[str]:
    if device == "cuda" and ct2.get_cuda_device_count() == 0:
        raise BackendError("--device cuda: ctranslate2 sees no CUDA GPU (its CPU-only build?); use --device cpu")
    return set(ct2.get_supported_compute_types(device))


# --- generation settings ----------------------------------------------------------------------


def ct2_options(generation: "GenerationSettings") -> dict[str, Any]:
    """`translate_batch` keyword arguments that decode as `model.generate(**generate_kwargs())` does.

    Greedy decoding (with min length, n-gram and repetition rules, or sampling) is the same
    computation; the decoder start token that transformers keeps at the head of the token history
    is restored for no-repeat n-grams by the backend, and for the repetition penalty it matters only
    to a model that emits its start token: a trained T5 or Pegasus does not, and BART's and mBART's
    start token is their end token, so the backend refuses the penalty there. Beam search is the same
    search and stopping rule (with early_stopping), with one difference CTranslate2 does not let us
    remove: it renormalizes after masking tokens (min length, no-repeat n-grams) where transformers
    does not, so those beam scores differ by the log of the masked probability -- ~0 on a confident
    model, but enough to pick another beam when the mask removes a likely token.

    `seed` is applied when the backend opens (CTranslate2 seeds its generator once, as the pipeline
    seeds torch once); `prefix` is already in the input ids; `target_language` is the forced first
    token (a target prefix), not an option.
    """
    g = generation
    beams = g.num_beams > 1
    if beams and g.sampling:
        raise BackendError(
            "--temperature with --num-beams > 1 (beam sampling) has no ctranslate2 equivalent; "
            "use --num-beams 1 to sample, or --backend torch"
        )
    if beams and g.repetition_penalty != 1:
        raise BackendError(
            "--repetition-penalty with --num-beams > 1 has no ctranslate2 equivalent (transformers scales "
            "log-probabilities in beam search, ctranslate2 logits); use --num-beams 1, or --backend torch"
        )
    if beams and g.early_stopping is not True and g.length_penalty != 0:
        raise BackendError(
            f"--num-beams {g.num_beams} with early_stopping {'never' if g.early_stopping == 'never' else 'off'} has no ctranslate2 equivalent: its beam search "
            "stops once num_beams hypotheses are finished; add --early-stopping, or use --backend torch"
        )
    options: dict[str, Any] = dict(
        beam_size=g.num_beams,
        patience=1,
        num_hypotheses=1,
        length_penalty=_UNIT_LENGTH_PENALTY if beams and g.length_penalty == 0 and g.early_stopping is True else g.length_penalty,
        max_decoding_length=g.max_length,
        min_decoding_length=g.min_length,
        no_repeat_ngram_size=g.no_repeat_ngram_size,
        repetition_penalty=g.repetition_penalty,
        sampling_topk=1,
        return_end_token=True,  # like generate(): the ids end with </s>
        max_input_length=0,  # no truncation: the pipeline already cut chunks to the window
    )
    if g.sampling:
        # transformers' top_k 0 means no top-k cut, which is what CTranslate2's 0 means too.
        options.update(sampling_topk=g.top_k, sampling_topp=g.top_p, sampling_temperature=g.temperature)
    return options


# --- the backend ------------------------------------------------------------------------------


def check(checkpoint: "Checkpoint", generation: "GenerationSettings") -> None:
    """Refuse, in one line naming the flag, what CTranslate2 cannot run as transformers does:
    the model's family, or these generation settings on it. `--backend auto` asks this too."""
    _refuse_unconvertible(checkpoint)
    ct2_options(generation)
    _refuse_start_penalty(checkpoint, generation)


def _refuse_unconvertible(checkpoint: "Checkpoint") -> None:
    """Families CTranslate2 has no converter for (LED, LongT5, Pegasus-X, unlisted types), in one
    line, before any conversion is tried."""
    family = checkpoint.family
    if family.ctranslate2:
        return
    name = f"{checkpoint.model_type!r}" if family is OTHER else family.name
    runs = ", ".join(f.name for f in FAMILIES if f.ctranslate2)
    raise BackendError(f"--backend ctranslate2 cannot run {name} models (it runs {runs}); use --backend torch")


def _refuse_start_penalty(checkpoint: "Checkpoint", generation: "GenerationSettings") -> None:
    """The repetition penalty on a model whose decoder starts with its end token (BART, mBART).

    transformers penalizes every token of the history, the decoder start token included, and
    CTranslate2 only the generated ones; where the start token is </s>, transformers lowers the
    end token's score at every step, which changes where summaries end.
    """
    tokens = checkpoint.special_tokens
    start = tokens.get("decoder_start_token_id")
    if generation.repetition_penalty != 1 and start is not None and start == tokens.get("eos_token_id"):
        raise BackendError(
            f"--repetition-penalty has no ctranslate2 equivalent for {checkpoint.family.name} models (transformers also "
            "penalizes their decoder start token, which is their end token); use --backend torch"
        )


@dataclass
class CTranslate2Backend:
    translator: Any
    tokenizer: Any
    start_token: str
    end_token: str
    vocab_size: int
    forced_bos_token: str | None = None
    forced_eos_token: str | None = None
    name: str = "ctranslate2"

    @classmethod
    def open(cls, loaded: "LoadedModel", settings: "RunSettings") -> "CTranslate2Backend":
        """Refuse what cannot run before converting; then convert (once), seed and load."""
        for generation in (settings.generation, settings.chunk_generation):
            check(loaded.checkpoint, generation)
        ct2 = _ctranslate2()
        placement = loaded.placement
        if placement.device == "mps":
            raise BackendError("ctranslate2 has no MPS (Apple GPU) support; use --device cpu, or --backend torch")
        precision = compute_type(placement, settings.quantize, _supported_compute_types(ct2, placement.device))
        path = converted_model(loaded)
        if settings.generation.seed is not None:
            ct2.set_random_seed(settings.generation.seed)
        try:
            tokens = json.loads((path / GENERATION_FILE).read_text(encoding="utf-8"))
            translator = ct2.Translator(
                str(path), device=placement.device, compute_type=precision,
                inter_threads=1, intra_threads=settings.threads or 0,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise BackendError(
                f"cannot load the converted model in {path}: {first_line(exc)} -- delete that folder to convert again"
            ) from None
        return cls(
            translator=translator,
            tokenizer=loaded.tokenizer,
            start_token=tokens["decoder_start_token"],
            end_token=loaded.tokenizer.eos_token,
            vocab_size=loaded.config.vocab_size,
            forced_bos_token=tokens["forced_bos_token"],
            forced_eos_token=tokens["forced_eos_token"],
        )

    def generate(self, rows: Sequence[Sequence[int]], generation: "GenerationSettings") -> list[list[int]]:
        options = ct2_options(generation)
        if options["sampling_topk"] >= self.vocab_size:
            options["sampling_topk"] = 0  # a cut at or past the vocabulary keeps everything
        n = generation.no_repeat_ngram_size
        if n == 1:  # transformers' history starts with the decoder start token: never repeat it
            options["suppress_sequences"] = [[self.start_token]]
        if self.forced_eos_token is not None:
            if generation.max_length == 1:  # the one token allowed is the forced end
                return [[self.tokenizer.convert_tokens_to_ids(self.forced_eos_token)] for _ in rows]
            # transformers forces the end token as the last of max_length tokens: decode one fewer
            options["max_decoding_length"] -= 1
            options["min_decoding_length"] = min(options["min_decoding_length"], options["max_decoding_length"])
        pieces = self._pieces
        sources = [[pieces[i] for i in row] for row in rows]
        # A forced first token is a target prefix: it counts toward both lengths and is in the
        # n-gram and repetition history, as the forced token is in transformers'.
        # mBART-50's target language is that forced first token: the input's, or --target-language.
        first = generation.target_language or self.forced_bos_token
        prefixes = [[first] for _ in rows] if first is not None else None
        outputs = self._translate(sources, options, prefixes)
        if n >= 2 and generation.num_beams == 1:
            self._replay_start_ngram(sources, outputs, n, options)
        if self.forced_eos_token is not None:
            ended = self.end_token
            outputs = [tokens if tokens[-1] == ended else [*tokens, self.forced_eos_token] for tokens in outputs]
        ids, unknown = self._ids, self.tokenizer.convert_tokens_to_ids
        return [[ids[token] if token in ids else unknown(token) for token in tokens] for tokens in outputs]

    @cached_property
    def _pieces(self) -> list[str]:
        """Every id's token string, looked up once: the tokenizer's own conversion, called per
        row, took a tenth of a long run's time (1.2M ids on a 1M-token book)."""
        return self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))

    @cached_property
    def _ids(self) -> dict[str, int]:
        return {token: index for index, token in enumerate(self._pieces)}

    def _translate(self, sources: list[list[str]], options: dict[str, Any], prefixes: list[list[str]] | None = None) -> list[list[str]]:
        results = self.translator.translate_batch(sources, target_prefix=prefixes, **options)
        return [result.hypotheses[0] for result in results]

    def _replay_start_ngram(self, sources: list[list[str]], outputs: list[list[str]], n: int, options: dict[str, Any]) -> None:
        """Give transformers' one extra n-gram to the rows it could have changed (in place).

        transformers' no-repeat history is [start] + generated, CTranslate2's only the generated
        tokens, so transformers also bans the n-gram (start, g1 .. g(n-1)). It can only fire after
        the model emits the start token again, at step n or later and before its last token, so
        rows without it are already exact (as are all rows where the start token is the end
        token). A row with it is decoded again: its tokens up to that first start token (and at
        least its first n-1) are forced, as they were made under identical rules, and the
        missing n-gram is added as a suppressed sequence -- the same rules from then on.
        """
        redo: dict[tuple[str, ...], list[int]] = {}
        for i, tokens in enumerate(outputs):
            if len(tokens) >= n and self.start_token in tokens[:-1]:
                redo.setdefault(tuple(tokens[: n - 1]), []).append(i)
        for head, members in redo.items():
            prefixes = [outputs[i][: max(outputs[i].index(self.start_token) + 1, n - 1)] for i in members]
            again = self._translate(
                [sources[i] for i in members], {**options, "suppress_sequences": [[self.start_token, *head]]}, prefixes
            )
            for i, tokens in zip(members, again):
                outputs[i] = tokens
