"""chaos: chaostoolkit activities (`pfdrill.chaos.actions`, `pfdrill.chaos.probes`) and running experiments with chaostoolkit-lib.
"""
