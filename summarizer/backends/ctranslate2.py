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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from . import BackendError
from ..errors import first_line

if TYPE_CHECKING:
    from ..config import GenerationSettings, RunSettings
    from ..device import Placement
    from ..models.loading import LoadedModel

INSTALL_HINT = "the ctranslate2 backend needs the 'fast' extra: pip install 'summarizer[fast]'"
CONVERSION = "float32"  # how weights are stored in the cache; compute_type picks the precision at load
MODEL_FILE = "model.bin"  # a cached folder without it is incomplete and never loaded
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
    digest = hashlib.sha256(json.dumps({**source, "conversion": CONVERSION}, sort_keys=True).encode()).hexdigest()
    return f"{label}-{digest[:16]}"


def convert_checkpoint(source: str, output_dir: Path, revision: str | None) -> None:
    """Run CTranslate2's transformers converter (a folder, or a hub id from the HF cache)."""
    from ctranslate2.converters import TransformersConverter

    TransformersConverter(source, revision=revision).convert(str(output_dir), quantization=CONVERSION, force=True)


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
    to a model that emits its start token, which a trained T5 does not. Beam search is the same
    search and stopping rule (with early_stopping), with one difference CTranslate2 does not let us
    remove: it renormalizes after masking tokens (min length, no-repeat n-grams) where transformers
    does not, so those beam scores differ by the log of the masked probability -- ~0 on a confident
    model, but enough to pick another beam when the mask removes a likely token.

    `seed` is applied when the backend opens (CTranslate2 seeds its generator once, as the pipeline
    seeds torch once); `prefix` is already in the input ids.
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
    if beams and not g.early_stopping and g.length_penalty != 0:
        raise BackendError(
            f"--num-beams {g.num_beams} with early_stopping off has no ctranslate2 equivalent: its beam search "
            "stops once num_beams hypotheses are finished; add --early-stopping, or use --backend torch"
        )
    options: dict[str, Any] = dict(
        beam_size=g.num_beams,
        patience=1,
        num_hypotheses=1,
        length_penalty=_UNIT_LENGTH_PENALTY if beams and g.length_penalty == 0 and g.early_stopping else g.length_penalty,
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


@dataclass
class CTranslate2Backend:
    translator: Any
    tokenizer: Any
    start_token: str
    vocab_size: int
    name: str = "ctranslate2"

    @classmethod
    def open(cls, loaded: "LoadedModel", settings: "RunSettings") -> "CTranslate2Backend":
        """Refuse what cannot run before converting; then convert (once), seed and load."""
        ct2 = _ctranslate2()
        ct2_options(settings.generation)
        placement = loaded.placement
        if placement.device == "mps":
            raise BackendError("ctranslate2 has no MPS (Apple GPU) support; use --device cpu, or --backend torch")
        precision = compute_type(placement, settings.quantize, _supported_compute_types(ct2, placement.device))
        path = converted_model(loaded)
        if settings.generation.seed is not None:
            ct2.set_random_seed(settings.generation.seed)
        try:
            translator = ct2.Translator(
                str(path), device=placement.device, compute_type=precision,
                inter_threads=1, intra_threads=settings.threads or 0,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise BackendError(
                f"cannot load the converted model in {path}: {first_line(exc)} -- delete that folder to convert again"
            ) from None
        start_id = getattr(loaded.config, "decoder_start_token_id", None)
        if start_id is None:
            start_id = loaded.tokenizer.pad_token_id
        return cls(
            translator=translator,
            tokenizer=loaded.tokenizer,
            start_token=loaded.tokenizer.convert_ids_to_tokens(start_id),
            vocab_size=loaded.config.vocab_size,
        )

    def generate(self, rows: Sequence[Sequence[int]], generation: "GenerationSettings") -> list[list[int]]:
        options = ct2_options(generation)
        if options["sampling_topk"] >= self.vocab_size:
            options["sampling_topk"] = 0  # a cut at or past the vocabulary keeps everything
        n = generation.no_repeat_ngram_size
        if n == 1:  # transformers' history starts with the decoder start token: never repeat it
            options["suppress_sequences"] = [[self.start_token]]
        sources = [self.tokenizer.convert_ids_to_tokens(list(row)) for row in rows]
        outputs = self._translate(sources, options)
        if n >= 2 and generation.num_beams == 1:
            self._replay_start_ngram(sources, outputs, n, options)
        return [self.tokenizer.convert_tokens_to_ids(tokens) for tokens in outputs]

    def _translate(self, sources: list[list[str]], options: dict[str, Any], prefixes: list[list[str]] | None = None) -> list[list[str]]:
        results = self.translator.translate_batch(sources, target_prefix=prefixes, **options)
        return [result.hypotheses[0] for result in results]

    def _replay_start_ngram(self, sources: list[list[str]], outputs: list[list[str]], n: int, options: dict[str, Any]) -> None:
        """Give transformers' one extra n-gram to the rows it could have changed (in place).

        transformers' no-repeat history is [start] + generated, CTranslate2's only the generated
        tokens, so transformers also bans the n-gram (start, g1 .. g(n-1)). It can only fire after
        the model emits the start token again, at step n or later, so rows without the start token
        are already exact. A row with it is decoded again: its tokens up to that first start token
        (and at least its first n-1) are forced, as they were made under identical rules, and the
        missing n-gram is added as a suppressed sequence -- the same rules from then on.
        """
        redo: dict[tuple[str, ...], list[int]] = {}
        for i, tokens in enumerate(outputs):
            if len(tokens) >= n and self.start_token in tokens:
                redo.setdefault(tuple(tokens[: n - 1]), []).append(i)
        for head, members in redo.items():
            prefixes = [outputs[i][: max(outputs[i].index(self.start_token) + 1, n - 1)] for i in members]
            again = self._translate(
                [sources[i] for i in members], {**options, "suppress_sequences": [[self.start_token, *head]]}, prefixes
            )
            for i, tokens in zip(members, again):
                outputs[i] = tokens
