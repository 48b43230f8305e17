"""What a runbook command is for: change, check, notification, investigation, documentation.

Each simple command is classified by its program (and subcommand) through
a table keyed by program name; a command's intent is the strongest intent of
the simple commands it contains (:attr:`Intent.precedence`), so an ``if``
block that patches, scales and notifies is a change. Test commands
(``[``, ``test``, ``[[``) and bare assignments are neutral. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pfdrill.model.runbook import Intent
from pfdrill.runbook.lexer import SimpleCommand, simple_commands

GREPS = frozenset({"grep", "egrep", "fgrep", "rg", "zgrep"})
_NEUTRAL = frozenset({"[", "[[", "test", "true", ":", ""})

_KUBECTL: dict[str, Intent] = {
    **dict.fromkeys(("patch", "scale", "apply", "create", "delete", "replace", "set", "label",
                     "annotate", "edit", "cordon", "uncordon", "drain", "taint", "autoscale",
                     "expose", "run"), Intent.CHANGE),
    **dict.fromkeys(("logs", "describe", "top", "events", "exec", "port-forward", "cp",
                     "debug", "explain", "api-resources"), Intent.INVESTIGATION),
    **dict.fromkeys(("get", "wait", "auth", "cluster-info", "version", "diff"), Intent.CHECK),
}
_ROLLOUT: dict[str, Intent] = {
    **dict.fromkeys(("restart", "undo", "pause", "resume"), Intent.CHANGE),
    **dict.fromkeys(("status", "history"), Intent.CHECK),
}
# pfctl: (command, subcommand) → intent; "" is the command without a subcommand.
_PFCTL: dict[tuple[str, str], Intent] = {
    ("status", ""): Intent.CHECK,
    ("status", "update"): Intent.NOTIFICATION,
    ("incident", "create"): Intent.DOCUMENTATION,
    ("incident", "update"): Intent.DOCUMENTATION,
    ("incident", "schedule-postmortem"): Intent.DOCUMENTATION,
    ("incident", "prepare-postmortem"): Intent.DOCUMENTATION,
    ("meeting", "schedule"): Intent.DOCUMENTATION,
    ("collect", ""): Intent.INVESTIGATION,
    ("analyze", ""): Intent.INVESTIGATION,
    ("logs", "analyze"): Intent.INVESTIGATION,
    ("config", "show"): Intent.INVESTIGATION,
    ("config", "diff"): Intent.INVESTIGATION,
    ("config", "update"): Intent.CHANGE,
    ("config", "deploy"): Intent.CHANGE,
    ("validate", ""): Intent.CHECK,
    ("certs", "verify"): Intent.CHECK,
    ("health", "check"): Intent.CHECK,
    ("test", ""): Intent.CHECK,
    ("test", "add"): Intent.CHANGE,
    ("rotate", ""): Intent.CHANGE,
    ("policy", "update"): Intent.CHANGE,
    ("policy", "review"): Intent.INVESTIGATION,
    ("policy", "add-validation"): Intent.CHANGE,
    ("policy", "update-declass"): Intent.CHANGE,
    ("security", "audit"): Intent.CHECK,
    ("monitoring", "add-alert"): Intent.CHANGE,
    ("monitoring", "update-threshold"): Intent.CHANGE,
    ("monitoring", "add-predictive"): Intent.CHANGE,
    ("monitoring", "update"): Intent.CHANGE,
    ("chaos", "update"): Intent.CHANGE,
}


def _positional(args: tuple[str, ...]) -> list[str]:
    return [a for a in args if not a.startswith("-")]


def _kubectl(cmd: SimpleCommand) -> Intent:
    words = kubectl_words(cmd.args)
    if not words:
        return Intent.CHECK
    sub = words[0]
    if sub == "rollout":
        return _ROLLOUT.get(words[1] if len(words) > 1 else "", Intent.CHECK)
    if sub == "get" and len(words) > 1 and words[1].split("/")[0] in ("events", "event", "ev"):
        return Intent.INVESTIGATION
    return _KUBECTL.get(sub, Intent.CHECK)


_KUBECTL_VALUE_FLAGS = frozenset({"-n", "--namespace", "--context", "--kubeconfig", "-l",
                                  "--selector", "-o", "--output", "-c", "--container",
                                  "--since", "--tail", "--sort-by", "-p", "--patch", "--type",
                                  "--replicas", "-f", "--filename", "--field-selector"})


def kubectl_words(args: tuple[str, ...]) -> list[str]:
    """kubectl's positional words, skipping flags and their values (``-n production``)."""
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "--":
            break
        if a.startswith("-"):
            skip = a in _KUBECTL_VALUE_FLAGS and "=" not in a and a not in ("-f",)
            continue
        out.append(a)
    return out


def pfctl_command(args: tuple[str, ...]) -> tuple[str, str]:
    """(command, subcommand) of a pfctl call; subcommand '' when there is none."""
    pos = _positional(args)
    if not pos:
        return "", ""
    sub = pos[1] if len(pos) > 1 and (pos[0], pos[1]) in _PFCTL else ""
    return pos[0], sub


def _pfctl(cmd: SimpleCommand) -> Intent:
    return _PFCTL.get(pfctl_command(cmd.args), Intent.CHECK)


def _curl(cmd: SimpleCommand) -> Intent:
    args = cmd.args
    posts = any(a in ("-d", "--data", "--data-raw", "--data-binary", "--json", "-F", "--form")
                or a.startswith(("--data", "-d")) for a in args)
    method = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-X", "--request")), "")
    webhook = any("WEBHOOK" in a for a in args)
    if webhook or posts or method.upper() in ("POST", "PUT"):
        return Intent.NOTIFICATION
    return Intent.INVESTIGATION


def _git(cmd: SimpleCommand) -> Intent:
    sub = next(iter(_positional(cmd.args)), "")
    if sub in ("add", "commit", "tag", "notes"):
        return Intent.DOCUMENTATION
    if sub in ("checkout", "switch", "branch", "init", "config", "stash"):
        return Intent.SETUP
    return Intent.INVESTIGATION


def _writer(cmd: SimpleCommand) -> Intent:
    """cat/echo/printf/tee: documentation when they write a file, otherwise output."""
    if cmd.writes_to() or cmd.has_heredoc or (cmd.name == "tee" and _positional(cmd.args)):
        return Intent.DOCUMENTATION
    return Intent.INVESTIGATION if cmd.name in ("cat",) else Intent.SETUP


def _signal(cmd: SimpleCommand) -> Intent:
    # SIGUSR1/SIGQUIT ask for a state dump: reading, not changing.
    return Intent.INVESTIGATION if any(a in ("-USR1", "-SIGUSR1", "-QUIT", "-s USR1")
                                       for a in cmd.args) else Intent.CHANGE


def _fixed(intent: Intent) -> Callable[[SimpleCommand], Intent]:
    return lambda _cmd: intent


_PROGRAMS: dict[str, Callable[[SimpleCommand], Intent]] = {
    "kubectl": _kubectl,
    "pfctl": _pfctl,
    "./pfctl": _pfctl,
    "curl": _curl,
    "git": _git,
    "cat": _writer, "echo": _writer, "printf": _writer, "tee": _writer,
    "kill": _signal, "pkill": _signal,
    "sha256sum": _fixed(Intent.CHECK), "promtool": _fixed(Intent.CHECK),
    "amtool": _fixed(Intent.CHECK),
    **dict.fromkeys(("cd", "export", "mkdir", "sleep", "source", ".", "set", "unset", "local",
                     "declare", "read", "cp", "mv", "touch", "date", "trap", "wait"),
                    _fixed(Intent.SETUP)),
    **dict.fromkeys((*GREPS, "awk", "sed", "jq", "head", "tail", "wc", "sort", "uniq", "cut",
                     "less", "more", "ls", "find", "diff", "column", "yq", "tr", "xargs"),
                    _fixed(Intent.INVESTIGATION)),
}


def classify_simple(cmd: SimpleCommand) -> Intent | None:
    """The intent of one simple command; None for neutral ones (tests, assignments)."""
    name = cmd.name
    if name in _NEUTRAL:
        return None
    base = name.rsplit("/", 1)[-1] if name not in _PROGRAMS else name
    rule = _PROGRAMS.get(base)
    if rule is None:
        return Intent.CHECK  # an unknown program: its exit status is what it says
    return rule(cmd)


@dataclasses.dataclass(frozen=True)
class CommandIntent:
    intent: Intent
    programs: tuple[str, ...]  # the simple commands' program names, in order
    last_is_grep: bool  # the command's final simple command is a grep (exit 1 = no match)


def classify(text: str) -> CommandIntent:
    """Classify a whole runbook command (text may span lines, hold if/fi, heredocs)."""
    cmds = [c for c in simple_commands(text) if c.words]
    intents = [i for i in (classify_simple(c) for c in cmds) if i is not None]
    intent = min(intents, key=lambda i: i.precedence) if intents else Intent.SETUP
    names = tuple(c.name for c in cmds)
    last = cmds[-1].name.rsplit("/", 1)[-1] if cmds else ""
    return CommandIntent(intent, names, last in GREPS)


STREAMING_KUBECTL = frozenset({"port-forward", "attach", "proxy"})


def streams(text: str) -> bool:
    """True when the command never ends on its own (``logs -f``, ``port-forward``, ``tail -f``)."""
    for cmd in simple_commands(text):
        name = cmd.name.rsplit("/", 1)[-1]
        args = cmd.args
        if name == "kubectl":
            words = kubectl_words(args)
            sub = words[0] if words else ""
            if sub in STREAMING_KUBECTL:
                return True
            if sub == "logs" and any(a in ("-f", "--follow") or a.startswith("--follow=true")
                                     for a in args):
                return True
            if sub == "get" and any(a in ("-w", "--watch", "--watch-only") for a in args):
                return True
        if name in ("tail",) and any(a in ("-f", "-F", "--follow") for a in args):
            return True
        if name == "watch":
            return True
    return False
