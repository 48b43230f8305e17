"""detect: detection timing from Prometheus (alert firing) and the sink (notifications). HTTP reads only.
"""
