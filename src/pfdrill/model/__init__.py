"""model: pure records shared by every layer. No I/O of any kind.

Frozen dataclasses with ``from_dict``/``to_dict``; enums for closed sets.
"""
