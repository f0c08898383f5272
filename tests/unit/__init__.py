"""Fast in-process tests, one file per gitml module (tests/unit/test_<module>.py).

End-to-end tests that drive `git commit`, `dvc` and the CLI in real repositories stay in tests/.
This directory is a package so that its file names may repeat those of tests/ (test_registry.py
here tests gitml/registry.py; tests/test_registry.py the `gitml promote` flow).
"""
