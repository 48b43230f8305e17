"""Kubeconfig files, read before the Kubernetes client sees them, so a mistake names its line.

The Kubernetes client's loader reports a broken kubeconfig as a bare
exception without a position (``Invalid kube-config file. Expected key
contexts``); pfdrill reads the file with its own YAML loader first and checks
the parts it relies on — the contexts, the cluster each names and its server
— so ``pfdrill --kubeconfig`` errors point at ``~/.kube/config:12``. It never
contacts a cluster and never runs an ``exec`` credential plugin.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc


@dataclasses.dataclass(frozen=True)
class Context:
    name: str
    cluster: str
    user: str
    namespace: str
    line: int


@dataclasses.dataclass(frozen=True)
class Kubeconfig:
    doc: yamldoc.Document
    contexts: tuple[Context, ...]
    servers: dict[str, str]  # cluster name -> API server URL
    users: frozenset[str]
    current: str | None

    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.contexts)

    def context(self, name: str | None = None) -> Context:
        """The context called ``name`` (default: ``current-context``), checked to be usable."""
        chosen = name or self.current
        found = next((c for c in self.contexts if c.name == chosen), None)
        if found is None:
            line = self.doc.line(["current-context"]) if name is None and self.current else None
            raise InvalidInput(f"context {chosen!r} is not in this kubeconfig (has: "
                               f"{', '.join(self.names())})", file=self.doc.file, line=line,
                               text=self.doc.text(line))
        if found.cluster not in self.servers:
            raise self.doc.error(f"context {found.name!r} names cluster {found.cluster!r}, "
                                 "which is not in 'clusters'", line=found.line)
        return found

    def server_of(self, name: str | None = None) -> str:
        return self.servers[self.context(name).cluster]


def _entries(doc: yamldoc.Document, key: str, body: str) -> list[tuple[str, dict[str, Any], int]]:
    """``[(name, body mapping, line)]`` of the list under ``key`` (clusters, contexts, users)."""
    root = doc.root
    items = root.get(key) if isinstance(root, dict) else None
    if items is None:
        return []
    if not isinstance(items, list):
        raise doc.error(f"{key!r} must be a list", [key])
    out: list[tuple[str, dict[str, Any], int]] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where: list[yamldoc.PathPart] = [key, i]
        if not isinstance(item, dict):
            raise doc.error(f"{key}[{i}] must be a mapping with 'name' and '{body}'", where)
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise doc.error(f"{key}[{i}] needs a 'name'", where)
        if name in seen:
            raise doc.error(f"{key}[{i}]: {name!r} is defined twice", [*where, "name"])
        seen.add(name)
        inner = item.get(body) if body in item else {}
        if inner is None:
            inner = {}
        if not isinstance(inner, dict):
            raise doc.error(f"{key}[{i}].{body} must be a mapping", [*where, body])
        out.append((name, inner, doc.line(where) or 1))
    return out


def _text(doc: yamldoc.Document, value: Any, path: list[yamldoc.PathPart], what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise doc.error(f"{what} must be a string", path)
    return value


def parse(doc: yamldoc.Document) -> Kubeconfig:
    root = doc.root if doc.root is not None else {}
    if not isinstance(root, dict):
        raise doc.error("a kubeconfig is a mapping (apiVersion, clusters, contexts, users, ...)")
    servers: dict[str, str] = {}
    for i, (name, body, _) in enumerate(_entries(doc, "clusters", "cluster")):
        server = body.get("server")
        if not isinstance(server, str) or not server:
            raise doc.error(f"cluster {name!r} has no 'server'", ["clusters", i, "cluster"])
        servers[name] = server
    users = frozenset(name for name, _, _ in _entries(doc, "users", "user"))
    contexts = []
    for i, (name, body, line) in enumerate(_entries(doc, "contexts", "context")):
        where: list[yamldoc.PathPart] = ["contexts", i, "context"]
        cluster = _text(doc, body.get("cluster"), [*where, "cluster"], "context.cluster")
        if not cluster:
            raise doc.error(f"context {name!r} names no cluster", where)
        contexts.append(Context(
            name=name, cluster=cluster,
            user=_text(doc, body.get("user"), [*where, "user"], "context.user"),
            namespace=_text(doc, body.get("namespace"), [*where, "namespace"], "context.namespace"),
            line=line))
    current = _text(doc, root.get("current-context"), ["current-context"], "current-context")
    return Kubeconfig(doc, tuple(contexts), servers, users, current or None)


def load(path: str | Path) -> Kubeconfig:
    file = Path(path)
    if not file.is_file():
        raise InvalidInput("kubeconfig file does not exist", file=file)
    return parse(yamldoc.load(file))
