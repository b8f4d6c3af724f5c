"""Files only their owner may read: the generated key and the SQLite database.

Each is created with mode 0600 from the first byte (``os.open`` with the mode), never written first and
restricted afterwards, so there is no moment in which another user of the machine could read it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> None:
    """Create the folder (and its parents) readable by the owner only; an existing folder is left as it is."""
    if not path.exists():
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)


def create_private(path: Path, content: bytes = b"") -> bool:
    """Create ``path`` with ``content``, mode 0600, atomically; False if it existed already (left untouched).

    The content is written to a temporary file of mode 0600 that is then hard-linked to its name, so a
    process starting at the same moment reads either no file or the whole one, never half a key.
    """
    if path.exists():
        return False
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
