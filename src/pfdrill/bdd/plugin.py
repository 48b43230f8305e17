"""pytest plugin entry point for pfdrill's Gherkin step library.

Registered as ``pytest11: pfdrill``; importing it must stay cheap and
side-effect free, because pytest loads it in every session of every project
that has pfdrill installed.
"""
