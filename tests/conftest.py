"""Shared test configuration.

The ``drill_cluster`` session fixture (one kwok cluster for the whole test
session) comes from pfdrill's own pytest plugin, ``pfdrill.bdd.cluster``, so
that ``features/`` and ``tests/`` share it. Pass ``--pfdrill-keep-cluster``
to keep it running between local runs.
"""
