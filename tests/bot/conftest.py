"""One real Synapse on 127.0.0.1 for every Matrix test of the session (tests/support/synapse.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.synapse import Synapse


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    yield server
    server.stop()
