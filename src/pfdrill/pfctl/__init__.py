"""pfctl: the fabric operator CLI the runbook calls (``./pfctl ...``).

Talks to the drill cluster through :class:`~pfdrill.cluster.client.ClusterClient`
and kubectl (pod logs), to the notification sink, Prometheus and Alertmanager
over HTTP on 127.0.0.1, keeps its incident store (SQLite) and artifacts under
its state directory, edits the live alert rules file, and writes the files it
is asked for (PDF, .ics, tarballs, JSON) where it is told. Every subcommand
has an effect a drill can check. Configuration: ``$PFCTL_CONFIG`` (YAML, see
:mod:`pfdrill.pfctl.settings`); ``--env NAME`` picks an environment from it.
"""
