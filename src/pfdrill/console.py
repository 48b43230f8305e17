"""console: run a Typer app and map pfdrill errors to one-line messages and exit codes.

Shared by ``pfdrill`` and ``pfctl`` so that both CLIs report errors the same way.
Recent Typer releases vendor their own copy of Click, older ones use Click
itself; the exception classes of whichever is in use are handled.
"""

from __future__ import annotations

import importlib
import sys
from typing import NoReturn

import typer

from pfdrill import extras
from pfdrill.errors import PfdrillError


def _classes(name: str) -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = []
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            mod = __import__(module, fromlist=[name])
        except ImportError:
            continue
        cls = getattr(mod, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException) and cls not in found:
            found.append(cls)
    return tuple(found)


_EXIT: tuple[type[BaseException], ...] = (*_classes("Exit"), typer.Exit)
_ABORT: tuple[type[BaseException], ...] = (*_classes("Abort"), typer.Abort)
_CLICK = _classes("ClickException")


def run(app: typer.Typer, argv: list[str] | None = None, prog: str = "pfdrill") -> int:
    """Run a Typer app and map errors to exit codes; shared by ``pfdrill`` and ``pfctl``."""
    try:
        result = app(args=argv, prog_name=prog, standalone_mode=False)
    except PfdrillError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except _ABORT:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except _EXIT as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except _CLICK as exc:
        msg = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        ctx = getattr(exc, "ctx", None)
        where = f" ({ctx.command_path})" if ctx is not None else ""
        if msg.strip():  # a bare group invocation has printed its help already
            print(f"{prog}: error{where}: {msg}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2) or 2)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as exc:
        missing = extras.explain(exc)
        if missing is None:
            raise
        print(f"{prog}: error: {missing}", file=sys.stderr)
        return missing.exit_code
    return int(result) if isinstance(result, int) else 0


def script(module: str, prog: str) -> NoReturn:
    """Run ``module.main()`` as console script ``prog``; a missing extra is one line."""
    try:
        main = importlib.import_module(module).main
    except ModuleNotFoundError as exc:
        missing = extras.explain(exc)
        if missing is None:
            raise
        print(f"{prog}: error: {missing}", file=sys.stderr)
        sys.exit(missing.exit_code)
    sys.exit(main())
