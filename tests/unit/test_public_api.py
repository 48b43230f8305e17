"""The public API is deliberate: a sorted ``__all__`` whose names all exist."""

import pfdrill


def test_all_is_sorted_and_resolvable() -> None:
    assert list(pfdrill.__all__) == sorted(pfdrill.__all__)
    for name in pfdrill.__all__:
        assert hasattr(pfdrill, name), name
