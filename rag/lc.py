"""The index as a LangChain retriever, so it plugs into a user's own chains.

from rag.lc import WatwerktRetriever
retriever = WatwerktRetriever(retriever=app.retriever, k=5)
docs = retriever.invoke("Wat werkt voor mbo-2 jongeren?")
docs[0].metadata["page_start"], docs[0].metadata["section"]
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .models import Passage
from .retrieve import Retriever


def to_document(passage: Passage, rank: int) -> Document:
    """A LangChain Document carrying the passage's provenance in its metadata."""
    return Document(
        page_content=passage.text,
        id=passage.chunk_id,
        metadata={
            "rank": rank,
            "chunk_id": passage.chunk_id,
            "report_id": passage.report_id,
            "title": passage.title,
            "year": passage.year,
            "authors": list(passage.authors),
            "section": passage.section_label,
            "page_start": passage.page_start,
            "page_end": passage.page_end,
            "char_start": passage.char_start,
            "char_end": passage.char_end,
            "score": passage.score,
        },
    )


class WatwerktRetriever(BaseRetriever):
    """Hybrid search (e5 + Dutch BM25) as a LangChain ``BaseRetriever``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int = 5
    reports: list[str] | None = None
    years: list[int] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        passages = self.retriever.search(
            query, k=int(kwargs.get("k", self.k)), reports=self.reports, years=self.years
        )
        return [to_document(p, i) for i, p in enumerate(passages, start=1)]
