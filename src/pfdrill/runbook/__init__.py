"""runbook: read a Markdown runbook, run its bash for real against the drill environment, judge it.

- :mod:`~pfdrill.runbook.parser` (with :mod:`~pfdrill.runbook.markdown` for
  what CommonMark renders — only that runs —, :mod:`~pfdrill.runbook.lexer`,
  :mod:`~pfdrill.runbook.selection`, :mod:`~pfdrill.runbook.intent`,
  :mod:`~pfdrill.runbook.expect` parsing): pure, bytes in, records out;
- :mod:`~pfdrill.runbook.executor`: one sandbox per session (a temp dir that is
  a scratch git repository), one ``bash`` process group per command, with the
  :mod:`~pfdrill.runbook.toolwrap` wrappers first on PATH;
- :mod:`~pfdrill.runbook.judge` / :mod:`~pfdrill.runbook.verify`: each command
  judged by its intent, changes read back through the ClusterClient and the
  watcher's own log (:mod:`~pfdrill.runbook.observer`);
- :mod:`~pfdrill.runbook.coverage` and :mod:`~pfdrill.runbook.runner`: the
  coverage table and the library front door (``pfdrill runbook check``).

Allowed I/O: temp directories and files, subprocesses (bash, git, kubectl,
curl through the wrappers, pfctl), the cluster through
:class:`~pfdrill.cluster.client.ClusterClient`, and HTTP to the notification
sink on 127.0.0.1. Nothing it runs may reach beyond 127.0.0.1.
"""
