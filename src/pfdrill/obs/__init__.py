"""obs: the observability stack (real Prometheus and Alertmanager processes) and the alert rules rendered per timing profile.

May start/stop local processes (detached, pidfiles under the state dir), run
``promtool``, write its state dir, and talk HTTP to Prometheus/Alertmanager.
"""
