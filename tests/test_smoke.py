from conftest import Example


def test_example_first_commit_has_lock(example: Example) -> None:
    lock = example.show_file("HEAD", "gitml.lock")
    assert lock.startswith("schema: gitml.lock/1\n")
    assert "model/model.pkl" in lock
