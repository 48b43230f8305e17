"""classify: severity from live signals against a baseline, through the thresholds table.

Pure logic (table validation, classifier, probes) plus: reading the
thresholds file and a runbook's table, HTTP reads from Prometheus
(``measure``), and ``promtool`` runs for threshold conformance.
"""
