"""runbook: Markdown runbook parser (pure), executor (runs bash in a sandbox) and coverage.
"""
