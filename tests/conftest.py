import os
from pathlib import Path

import numpy as np
import pytest

# no test reaches outside the machine: loaders never download (tests/test_fetch.py serves files from 127.0.0.1)
os.environ["NMFKIT_OFFLINE"] = "1"

DATA_DIR = Path(os.environ.get("NMFKIT_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="run slow paper checks")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def data_dir():
    if not DATA_DIR.is_dir():
        pytest.skip(f"shared data folder {DATA_DIR} not found")
    return DATA_DIR


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
