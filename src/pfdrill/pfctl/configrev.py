"""``pfctl config show|diff|update|deploy``: policy-config, its revisions and its drift.

Revisions live in two places a responder would look: the policy git
repository (``policy/policy-config.yaml``; ``--baseline HEAD~1`` is a git
revision) and the incident store (``--baseline rev:3``). ``update`` records a
new revision — a commit on the current branch and a store row — without
touching the cluster; ``deploy`` patches the live ConfigMap and waits for
the sidecar-watcher to accept it.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any

from pfdrill.errors import EnvironmentProblem, InvalidInput
from pfdrill.fabric.policy import ConfigRefused, PolicyConfig
from pfdrill.formats import yamldoc
from pfdrill.model.fabric import FABRIC
from pfdrill.pfctl.context import Context
from pfdrill.runbook.observer import Verdict

REPO_FILE = "policy/policy-config.yaml"


def current(ctx: Context) -> dict[str, str]:
    return ctx.client.get_configmap(ctx.namespace, FABRIC.policy_config)


def show(ctx: Context) -> dict[str, Any]:
    data = current(ctx)
    try:
        effective: dict[str, str] | None = PolicyConfig.parse(data).to_dict()
        problem = ""
    except ConfigRefused as exc:
        effective, problem = None, str(exc)
    return {"namespace": ctx.namespace, "configmap": FABRIC.policy_config, "data": data,
            "effective": effective, "valid": effective is not None, "problem": problem}


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              check=False, timeout=30)
    except OSError as exc:
        raise EnvironmentProblem(f"git: {exc}") from exc


def repo_of(ctx: Context) -> Path | None:
    for candidate in (ctx.repo, ctx.cwd):
        if candidate is not None and _git(candidate, "rev-parse", "--git-dir").returncode == 0:
            return Path(_git(candidate, "rev-parse", "--show-toplevel").stdout.strip())
    return None


def _value(raw: object) -> str:
    """A ConfigMap value as the fabric reads it (YAML ``true`` is the string ``true``)."""
    return str(raw).lower() if isinstance(raw, bool) else str(raw)


def _mapping(text: str, source: str) -> dict[str, str]:
    doc = yamldoc.loads(text, source)
    raw = doc.root
    if isinstance(raw, dict) and isinstance(raw.get("data"), dict):
        raw = raw["data"]  # a ConfigMap manifest
    if not isinstance(raw, dict) or not raw:
        raise doc.error("expected a mapping of policy-config keys (or a ConfigMap with data)")
    for key, value in raw.items():
        if isinstance(value, dict | list):
            raise doc.error(f"policy-config key {key!r} must be a single value", [key])
    return {str(k): _value(v) for k, v in raw.items()}


def _write_revision(target: Path, merged: dict[str, str]) -> None:
    """Write the merged config into the repository's file, keeping its comments and order.

    Values that did not change keep the way they were written (``1000`` stays unquoted);
    new keys are added in sorted order, keys no longer in the config are removed.
    """
    if target.is_file():
        doc = yamldoc.load(target, edit=True)
    else:
        doc = yamldoc.loads("", target, edit=True)
    root = doc.root
    if isinstance(root, dict) and isinstance(root.get("data"), dict):
        root = root["data"]  # a ConfigMap manifest: edit its data
    if not isinstance(root, dict):
        doc = yamldoc.Document(doc.file, doc.lines, yamldoc.new_mapping(), doc.indent)
        root = doc.root
    for key in [k for k in root if str(k) not in merged]:
        del root[key]
    for key in sorted(merged):
        if key not in root:
            root[key] = merged[key]
        elif _value(root[key]) != merged[key]:
            if isinstance(root[key], str):
                yamldoc.replace_text(root, key, merged[key])
            else:
                root[key] = _typed_like(root[key], merged[key])
    yamldoc.write(doc, target)


def _typed_like(old: object, new: str) -> object:
    """``new`` as a YAML bool or number when ``old`` was one, so ``2000`` is not quoted."""
    if isinstance(old, bool):
        return {"true": True, "false": False}.get(new, new)
    try:
        if isinstance(old, int):
            return int(new)
        if isinstance(old, float):
            return float(new)
    except ValueError:
        pass
    return new


def baseline(ctx: Context, rev: str) -> tuple[dict[str, str], str]:
    """(config, where it came from) for ``--baseline``: ``rev:N``/``N`` or a git revision."""
    m = re.fullmatch(r"(?:rev:)?(\d+)", rev)
    if m:
        return ctx.store.revision(ctx.env.name, int(m.group(1))), f"stored revision {m.group(1)}"
    repo = repo_of(ctx)
    if repo is None:
        raise InvalidInput(f"--baseline {rev}: no policy git repository here (and not a stored "
                           f"revision number)")
    shown = _git(repo, "show", f"{rev}:{REPO_FILE}")
    if shown.returncode != 0:
        raise InvalidInput(f"--baseline {rev}: {shown.stderr.strip().splitlines()[-1]}",
                           file=repo / REPO_FILE)
    return _mapping(shown.stdout, f"{rev}:{REPO_FILE}"), f"git {rev}:{REPO_FILE}"


def diff(old: dict[str, str], new: dict[str, str]) -> list[str]:
    lines = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if a is not None:
            lines.append(f"- {key}: {a}")
        if b is not None:
            lines.append(f"+ {key}: {b}")
    return lines


def _validated(ctx: Context, file: Path) -> tuple[dict[str, str], dict[str, str]]:
    if not file.is_file():
        raise InvalidInput("file does not exist", file=file)
    changes = _mapping(file.read_text(encoding="utf-8"), str(file))
    merged = {**current(ctx), **changes}
    try:
        PolicyConfig.parse(merged)
    except ConfigRefused as exc:
        raise InvalidInput(f"the fabric would refuse this policy-config: {exc}", file=file) from None
    return changes, merged


def update(ctx: Context, file: Path) -> dict[str, Any]:
    changes, merged = _validated(ctx, file)
    rev = ctx.store.add_revision(ctx.env.name, str(file), merged)
    committed = ""
    repo = repo_of(ctx)
    if repo is not None:
        target = repo / REPO_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_revision(target, merged)
        _git(repo, "add", REPO_FILE)
        # Nothing staged (the same update again) is not an error; `git commit -q` would fail
        # silently on it.
        if _git(repo, "diff", "--cached", "--quiet").returncode != 0:
            done = _git(repo, "commit", "-q", "-m", f"policy: update policy-config from "
                        f"{file.name} (revision {rev})")
            if done.returncode != 0:
                raise EnvironmentProblem(
                    f"git commit failed: {(done.stderr or done.stdout).strip() or 'no output'}")
            committed = _git(repo, "rev-parse", "--short", "HEAD").stdout.strip()
    return {"revision": rev, "changes": changes, "commit": committed}


def deploy(ctx: Context, file: Path, timeout_s: float = 15.0) -> dict[str, Any]:
    changes, merged = _validated(ctx, file)
    before = current(ctx)
    started = dt.datetime.now(dt.UTC)
    ctx.client.patch_configmap(ctx.namespace, FABRIC.policy_config, changes)
    rev = ctx.store.add_revision(ctx.env.name, f"deploy {file}", merged)
    ctx.store.mark_deployed(rev)
    verdict = "unchanged"
    if any(before.get(k) != v for k, v in changes.items()):
        seen = ctx.observer(FABRIC.watcher_selector).config_verdict(started, changes, timeout_s)
        if seen.verdict is Verdict.REFUSED:
            raise InvalidInput(f"the sidecar-watcher refused the deployed config: {seen.detail}",
                               file=file)
        verdict = seen.detail
    return {"revision": rev, "changes": changes, "watcher": verdict}
