"""A small client of the Gradio 6 HTTP protocol, as a browser (or an attacker) speaks it:
read the app's config, upload a file, call any event function by its index and read the
server-sent events until it completes. For the security tests; loopback only."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

API = "/gradio_api"


@dataclass
class Call:
    """What came back from one event: the raw event stream and the completed message."""

    raw: str
    completed: dict[str, Any] | None

    @property
    def success(self) -> bool:
        return bool(self.completed and self.completed.get("success"))

    @property
    def data(self) -> list[Any]:
        output = (self.completed or {}).get("output") or {}
        return list(output.get("data") or [])


@dataclass
class GradioHttp:
    base: str
    headers: dict[str, str] = field(default_factory=dict)
    session_hash: str = field(default_factory=lambda: uuid.uuid4().hex[:11])

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base, headers=self.headers, timeout=120)
        self._config: dict[str, Any] | None = None

    def close(self) -> None:
        self.client.close()

    def config(self) -> dict[str, Any]:
        if self._config is None:
            response = self.client.get("/config")
            response.raise_for_status()
            self._config = response.json()
        return self._config

    def components(self) -> dict[int, dict[str, Any]]:
        return {c["id"]: c for c in self.config()["components"]}

    def dependencies(self) -> list[dict[str, Any]]:
        return list(self.config()["dependencies"])

    def by_elem(self, elem_id: str) -> dict[str, Any]:
        return next(c for c in self.config()["components"] if c["props"].get("elem_id") == elem_id)

    def dependency(self, elem_id: str, trigger: str) -> dict[str, Any]:
        target = self.by_elem(elem_id)["id"]
        return next(d for d in self.dependencies() if [target, trigger] in d["targets"])

    def then_of(self, dep: dict[str, Any]) -> dict[str, Any]:
        """The function chained after ``dep`` with .then()."""
        return next(d for d in self.dependencies() if d.get("trigger_after") == dep["id"])

    def upload(self, path: Path, headers: dict[str, str] | None = None) -> httpx.Response:
        with path.open("rb") as fh:
            return self.client.post(
                f"{API}/upload",
                params={"upload_id": uuid.uuid4().hex[:11]},
                files={"files": (path.name, fh)},
                headers=headers,
            )

    def call(
        self, fn_index: int, data: list[Any], event_data: Any = None, trigger_id: Any = None
    ) -> Call:
        payload = {
            "data": data,
            "event_data": event_data,
            "fn_index": fn_index,
            "trigger_id": trigger_id,
            "session_hash": self.session_hash,
        }
        joined = self.client.post(f"{API}/queue/join", json=payload)
        if joined.status_code != 200:
            return Call(joined.text, {"success": False, "status": joined.status_code})
        raw: list[str] = []
        with self.client.stream(
            "GET", f"{API}/queue/data", params={"session_hash": self.session_hash}
        ) as stream:
            for line in stream.iter_lines():
                raw.append(line)
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return Call("\n".join(raw), message)
                if message.get("msg") in ("close_stream", "unexpected_error"):
                    break
        return Call("\n".join(raw), None)


def file_data(path: str | Path, name: str | None = None) -> dict[str, Any]:
    """A file input as the page sends it."""
    return {
        "path": str(path),
        "orig_name": name or Path(path).name,
        "meta": {"_type": "gradio.FileData"},
    }
