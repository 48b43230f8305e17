"""bdd: the pytest-bdd step library, shipped as a pytest plugin (entry point `pytest11`). Drives drills; no I/O of its own.
"""
