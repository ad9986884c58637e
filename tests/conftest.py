"""Shared test set-up: seed everything, keep torch to the CPU threads CI has."""
import os
import random

import numpy as np
import pytest
import torch

os.environ.setdefault("BIGMODEL_DEVICE", "cpu")   # tests compare numbers on the CPU; bench/ covers GPUs


@pytest.fixture(autouse=True)
def _seed():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
