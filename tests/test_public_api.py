import types

import gilwise


def test_all_is_sorted_and_complete() -> None:
    assert gilwise.__all__ == sorted(gilwise.__all__)
    for name in gilwise.__all__:
        assert hasattr(gilwise, name), name
    public = {
        n
        for n, v in vars(gilwise).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType) and n != "annotations"
    }
    assert public <= set(gilwise.__all__), public - set(gilwise.__all__)
