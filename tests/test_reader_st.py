"""A user's own sentence-transformers cross-encoder as the reader: ``ask --reader st:PATH``.

The cross-encoders here are tiny random BERTs with a word-level tokenizer built from a few
Dutch sentences, saved offline: they test the interface (the model is really called, quotes
stay verified, errors are one line), not the quality of reading."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from rag.errors import RagError
from rag.models import Passage
from rag.reader.candidates import Candidate, around
from rag.verify import find_quote
from ui.cli import main

from .cli_run import run_json

# answered by the shipped reader (the plain Kansen count questions are known misses: test_ask)
QUESTION = (
    "Hoeveel procent van de jongeren die bij de bvo's aan de slag gingen, stroomde uit naar werk?"
)
DUTCH = [
    QUESTION,
    "In totaal zijn 70 jongeren geplaatst bij de bvo's.",
    "De alliantie werkt samen met scholen, gemeenten en werkgevers in de regio.",
    "Ongeveer 80 procent van de jongeren is uitgestroomd naar werk.",
    "Wat werkt voor jongeren in het mbo die een baan zoeken?",
]


def save_cross_encoder(folder: Path, num_labels: int = 1, head: str = "classifier") -> Path:
    """A random two-layer BERT (hidden 32) and its tokenizer, saved as a Hugging Face model:
    ``head="classifier"`` a cross-encoder, ``head="none"`` a plain encoder (no cross-encoder)."""
    pytest.importorskip("sentence_transformers")
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        BertModel,
        PreTrainedTokenizerFast,
    )

    torch.manual_seed(num_labels)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(DUTCH, trainers.WordLevelTrainer(special_tokens=specials))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=256,
    )
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        num_labels=num_labels,
        initializer_range=0.5,  # random scores that differ from pair to pair, not all ~0.5
    )
    model = BertForSequenceClassification(config) if head == "classifier" else BertModel(config)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_cross_encoder(tmp_path_factory.mktemp("st-reader") / "one-label")


def candidates() -> list[Candidate]:
    from ingest.nlp import block_sentence_spans

    text = " ".join(DUTCH[1:4])
    passage = Passage(
        "c1", "regioplan-2020", "Reflectie", 2020, ("Kansen", "Resultaten"), 1, 1, 0, 0, text
    )
    spans = block_sentence_spans(text)
    out = []
    for rank, (s, e) in enumerate(spans):
        before, after = around(spans, text, s, e)
        out.append(Candidate(passage, rank, s, e, before, after, 0.5))
    return out


@pytest.mark.st
def test_st_reader_scores_are_the_cross_encoders_own_probabilities(cross_encoder):
    from sentence_transformers import CrossEncoder

    from rag.reader.reader import Reader, load_reader
    from rag.reader.st import pair_text

    reader = load_reader(f"st:{cross_encoder}")
    assert isinstance(reader, Reader)
    assert reader.name == f"st:{cross_encoder.resolve()}" and reader.threshold == 0.5
    cands = candidates()
    assert len(cands) == 3
    text = pair_text(cands[1])
    assert text.startswith("Resultaten: ") and f"» {cands[1].sentence} «" in text
    assert cands[0].sentence in text and cands[2].sentence in text

    scores = reader.score(QUESTION, cands)
    expected = CrossEncoder(str(cross_encoder)).predict([(QUESTION, pair_text(c)) for c in cands])
    assert scores.shape == (3,) and np.all((scores > 0) & (scores < 1))
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    assert reader.answerability(QUESTION, cands) == pytest.approx(float(expected.max()))
    assert reader.answerability(QUESTION, []) == 0.0
    assert load_reader(f"st:{cross_encoder}") is reader  # loaded once per folder


@pytest.mark.st
def test_a_two_label_cross_encoder_gives_the_answering_labels_share(tmp_path):
    from sentence_transformers import CrossEncoder

    from rag.reader.st import STCrossEncoderReader, pair_text

    folder = save_cross_encoder(tmp_path / "two-labels", num_labels=2)
    cands = candidates()
    scores = STCrossEncoderReader(folder).score(QUESTION, cands)
    pairs = [(QUESTION, pair_text(c)) for c in cands]
    softmax = CrossEncoder(str(folder)).predict(pairs, apply_softmax=True)
    np.testing.assert_allclose(scores, softmax[:, 1], rtol=1e-5)


@pytest.mark.st
def test_ask_reads_with_the_st_reader_and_every_quote_stays_verified(
    built_home, cross_encoder, monkeypatch
):
    monkeypatch.setenv("WATWERKT_READER_THRESHOLD", "0.01")  # a random model: let it answer
    argv = ["ask", QUESTION, "--home", str(built_home), "--reader", f"st:{cross_encoder}"]
    data = run_json(argv)
    assert data["grounded"] is True
    assert any(f"read by st:{cross_encoder.resolve()}" in n for n in data["notes"])
    assert 0.0 < data["confidence"] < 1.0
    texts = {p["chunk_id"]: p["text"] for p in data["passages"]}
    assert data["citations"]
    for c in data["citations"]:
        assert find_quote(c["quote"], texts[c["chunk_id"]]) >= 0

    best = data["confidence"]  # the best candidate's probability decides, against the setting
    monkeypatch.setenv("WATWERKT_READER_THRESHOLD", str(min(best + 0.001, 0.9999)))
    refused = run_json(argv)
    assert refused["grounded"] is False and refused["citations"] == []
    assert refused["confidence"] == best
    assert any("the reader finds no answer" in n for n in refused["notes"])


@pytest.mark.st
def test_the_web_apps_answers_take_the_reader_from_the_environment(
    built_home, cross_encoder, monkeypatch
):
    from ui.settings import get_settings
    from ui.wiring import App

    monkeypatch.setenv("WATWERKT_READER", f"st:{cross_encoder}")
    monkeypatch.setenv("WATWERKT_READER_THRESHOLD", "0.01")
    answer = App(get_settings(home=built_home), show_progress=False).ask(QUESTION)  # as the chat
    assert answer.grounded and any(n.startswith("read by st:") for n in answer.notes)


@pytest.mark.st
def test_the_ui_refuses_to_start_with_a_reader_that_cannot_load(tmp_path, capsys, monkeypatch):
    pytest.importorskip("sentence_transformers")
    monkeypatch.setenv("WATWERKT_READER", f"st:{tmp_path / 'missing'}")
    code = main(["ui", "--port", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "no such folder" in err and "Traceback" not in err


@pytest.mark.st
@pytest.mark.parametrize("kind", ["missing", "empty", "encoder"])
def test_a_folder_that_is_no_cross_encoder_is_a_one_line_error(tmp_path, capsys, kind):
    pytest.importorskip("sentence_transformers")
    folder = tmp_path / kind
    if kind == "empty":
        folder.mkdir()
    elif kind == "encoder":
        save_cross_encoder(folder, head="none")
    code = main(["ask", QUESTION, "--reader", f"st:{folder}"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert "Traceback" not in captured.err
    errors = [line for line in captured.err.splitlines() if line.startswith("watwerkt: error:")]
    assert len(errors) == 1 and "st:PATH" in errors[0] and str(folder) in errors[0]
    hint = {"missing": "no such folder", "empty": "no config.json", "encoder": "BertModel"}[kind]
    assert hint in errors[0]


@pytest.mark.st
def test_without_sentence_transformers_the_error_says_what_to_install(cross_encoder, monkeypatch):
    from rag.reader import st

    st._cross_encoder.cache_clear()
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(RagError, match=r"pip install 'watwerkt\[st\]'"):
        st.STCrossEncoderReader(cross_encoder)
    st._cross_encoder.cache_clear()


@pytest.mark.parametrize("bad", ["foo", "st:", "st:  ", "Trained"])
def test_settings_accept_only_the_readers_there_are(bad):
    from pydantic import ValidationError

    from ui.settings import get_settings

    with pytest.raises(ValidationError, match="st:PATH"):
        get_settings(reader=bad)
    assert get_settings(reader=" st:/some/folder ").reader == "st:/some/folder"
    assert get_settings(reader="cross-encoder").reader == "cross-encoder"


def test_an_unknown_reader_on_the_command_line_is_one_line(capsys):
    code = main(["ask", QUESTION, "--reader", "foo"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("watwerkt: error:")]
    assert len(errors) == 1 and "unknown reader 'foo'" in errors[0]
