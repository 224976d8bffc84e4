"""The backup program as a module: the file the backup image runs, imported from images/backup/."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from render.backup_conf import BACKUP_SCRIPT


def backup_program() -> ModuleType:
    """images/backup/datastore_backup.py, imported once (it is a script beside its Dockerfile, not a package)."""
    name = "datastore_backup"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BACKUP_SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses resolve their module while the file executes
        spec.loader.exec_module(module)
    return sys.modules[name]
