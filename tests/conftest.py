import sys
from pathlib import Path

import pytest
import torch

# The browser helpers live beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """The app and the exported scripts train on one PyTorch thread; so do the tests (and the
    suite shares two cores with the servers and browsers it starts)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
