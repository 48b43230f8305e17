"""obs: the observability stack (real Prometheus and Alertmanager processes) and the alert rules rendered per timing profile.
"""
