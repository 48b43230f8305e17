"""schedule: which drill suites run when, and what a scheduled run leaves behind.

``drills/schedule.yaml`` says which suites run on which cron, with which
timing profile, where the run's summary is posted and how much history is
kept. This package reads and edits that file (:mod:`.spec`, :mod:`.edit`,
:mod:`.scenario`), decides which entries are due (:mod:`.due`), runs them
through the suite runner (:mod:`.runner` — it never runs a drill phase
itself), posts the summary with regressions first (:mod:`.summary`,
:mod:`.notify`), and renders the in-cluster CronJob with a least-privilege
Role (:mod:`.rbac`, :mod:`.manifests`).

I/O: the schedule file and the suites it names, the history store (through
:mod:`pfdrill.history`), one HTTP POST per run to the configured webhook.
"""
