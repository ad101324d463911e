import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fresh: installs README's first command in a fresh debootstrapped Debian 12")
