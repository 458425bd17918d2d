import gilwise


def test_all_is_sorted_and_complete() -> None:
    assert gilwise.__all__ == sorted(gilwise.__all__)
    for name in gilwise.__all__:
        assert hasattr(gilwise, name), name
    public = {n for n in vars(gilwise) if not n.startswith("_")} - {"annotations"}
    assert public <= set(gilwise.__all__), public - set(gilwise.__all__)
