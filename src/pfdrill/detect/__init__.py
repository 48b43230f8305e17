"""detect: detection timing from Prometheus (alert firing) and the sink (notifications).

``timing`` only reads over HTTP; ``pipeline`` starts and stops the sink,
Prometheus and Alertmanager processes as one unit.
"""
