"""The policy adapter's permit rules: which principals may perform which actions.

ConfigMap ``policy-adapter-config``, key ``rules.yaml``::

    default: deny            # what happens when no rule matches
    rules:
      - name: frontend-rw
        principals: [svc-frontend]      # shell-style patterns: "svc-*"
        actions: [login, read, write, review, logout]
        effect: allow                   # or deny
      - name: nobody-deletes
        principals: ["*"]
        actions: [delete]
        effect: deny

The first matching rule decides; its name is the ``rule`` the watcher logs.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc

RULES_KEY = "rules.yaml"
EFFECTS = ("allow", "deny")


class RulesRefused(ValueError):
    """Rules that must not be applied; the message says where."""


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    principals: tuple[str, ...]
    actions: tuple[str, ...]
    allow: bool

    def matches(self, principal: str, action: str) -> bool:
        return any(fnmatch.fnmatchcase(principal, p) for p in self.principals) and any(
            fnmatch.fnmatchcase(action, a) for a in self.actions
        )

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "principals": list(self.principals),
                "actions": list(self.actions), "effect": "allow" if self.allow else "deny"}


@dataclasses.dataclass(frozen=True)
class Decision:
    allow: bool
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {"allow": self.allow, "rule": self.rule}

    @classmethod
    def from_dict(cls, data: Any) -> Decision:
        if not isinstance(data, dict) or not isinstance(data.get("allow"), bool):
            raise ValueError("permit response must be an object with a boolean 'allow'")
        return cls(data["allow"], str(data.get("rule", "")))


@dataclasses.dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...] = ()
    default_allow: bool = False

    def decide(self, principal: str, action: str) -> Decision:
        for rule in self.rules:
            if rule.matches(principal, action):
                return Decision(rule.allow, rule.name)
        return Decision(self.default_allow, "default-" + ("allow" if self.default_allow else "deny"))

    def to_dict(self) -> dict[str, Any]:
        return {"default": "allow" if self.default_allow else "deny",
                "rules": [r.to_dict() for r in self.rules]}

    @classmethod
    def from_dict(cls, data: Any) -> RuleSet:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise RulesRefused("rules must be a mapping with 'default' and 'rules'")
        default = data.get("default", "deny")
        if default not in EFFECTS:
            raise RulesRefused(f"default={default!r}: expected allow or deny")
        entries = data.get("rules") or []
        if not isinstance(entries, list):
            raise RulesRefused("'rules' must be a list")
        rules = []
        for i, entry in enumerate(entries):
            rules.append(_rule(i, entry))
        return cls(tuple(rules), default == "allow")

    @classmethod
    def parse(cls, text: str) -> RuleSet:
        try:
            data = yamldoc.loads(text, RULES_KEY).root
        except InvalidInput as exc:
            where = f" at line {exc.line}" if exc.line is not None else ""
            raise RulesRefused(f"{RULES_KEY} is not YAML{where}: "
                               f"{exc.message.removeprefix('not valid YAML: ')}") from None
        return cls.from_dict(data)


def _rule(i: int, entry: Any) -> Rule:
    if not isinstance(entry, dict):
        raise RulesRefused(f"rules[{i}] must be a mapping")
    lists = {}
    for key in ("principals", "actions"):
        value = entry.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise RulesRefused(f"rules[{i}].{key} must be a non-empty list of strings")
        lists[key] = tuple(value)
    effect = entry.get("effect", "allow")
    if effect not in EFFECTS:
        raise RulesRefused(f"rules[{i}].effect={effect!r}: expected allow or deny")
    return Rule(str(entry.get("name") or f"rule-{i}"), lists["principals"], lists["actions"],
                effect == "allow")
