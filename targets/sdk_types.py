"""A generated SDK's type module (`_inputs`, `outputs`) whose classes are defined on first use.

pulumi_digitalocean's `_inputs.py` and `outputs.py` define about 1,500 classes, the Kubernetes core/v1
group's about 1,100. Running them (a decorator per class, typing subscriptions in every signature)
took 0.2 s per SDK of a preview that uses a few dozen. A module here runs its header (its imports and
`__all__`) at once, and each class statement when the class is first asked for, together with every
class of the module it names: the generated annotations name them as strings, which Pulumi resolves
in this module's globals when it translates inputs and outputs. Those statements run in the order the
file has them, so the classes are the ones a full import defines, with the same module and qualname.

Asking for every name, as `from ._inputs import *` does with the full `__all__`, defines them all. The
lean packages (targets/sdk.py) import a resource module under `star_import_names`, which narrows
`__all__` to the names that module's source mentions.

The classes' code is compiled once per SDK file and kept in the user's cache directory, as bytecode is
kept, and rebuilt when the file changes. A module of another shape (anything but imports and then
class statements), or a cache directory that cannot be written, means the usual import.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import marshal
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, ModuleType

CACHE_FORMAT = 1  # bump when TypeIndex's layout changes, so older cache files are rebuilt

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def mentioned_names(source: str) -> set[str]:
    """Every identifier in `source`, strings and comments included: a superset of the names it uses."""
    return set(IDENTIFIER.findall(source))


@dataclass(frozen=True)
class TypeIndex:
    """One type module split by class: its header's code, and each class's position, names and code."""

    stamp: tuple[int, int]                  # the source file's (size, mtime_ns) when this was built
    header: CodeType
    position: dict[str, int]                # class -> index among the module's class statements
    names: dict[str, tuple[str, ...]]       # class -> the module's other classes it mentions
    code: dict[str, bytes]                  # class -> its statement's marshalled code

    def closure(self, name: str) -> list[str]:
        """`name` and every class it reaches through the names it mentions, in file order."""
        reached, pending = {name}, [name]
        while pending:
            for other in self.names[pending.pop()]:
                if other not in reached:
                    reached.add(other)
                    pending.append(other)
        return sorted(reached, key=self.position.__getitem__)


def _stamp(path: str) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns


def build_index(path: str) -> TypeIndex | None:
    """Split the module at `path`; None if it is not imports followed by class statements only."""
    with open(path, encoding="utf-8") as file:
        source = file.read()
    body = ast.parse(source, path).body
    first_class = next((i for i, node in enumerate(body) if isinstance(node, ast.ClassDef)), len(body))
    header, classes = body[:first_class], body[first_class:]
    if not classes or not all(isinstance(node, ast.ClassDef) for node in classes):
        return None
    lines = source.splitlines(keepends=True)
    defined = {node.name for node in classes}
    position, names, code = {}, {}, {}
    for i, node in enumerate(classes):
        first_line = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        text = "".join(lines[first_line - 1:node.end_lineno])
        position[node.name] = i
        names[node.name] = tuple(sorted(mentioned_names(text) & defined - {node.name}))
        # Compiled on its own, the statement keeps its line numbers: tracebacks point into the SDK file.
        code[node.name] = marshal.dumps(compile(ast.Module(body=[node], type_ignores=[]), path, "exec"))
    header_code = compile(ast.Module(body=header, type_ignores=[]), path, "exec")
    return TypeIndex(_stamp(path), header_code, position, names, code)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "devtools-infra" / "sdk-types"


def _cache_file(module_name: str, path: str) -> Path:
    # The interpreter's tag, as bytecode has: code objects are specific to a Python version.
    where = hashlib.sha256(path.encode()).hexdigest()[:16]
    return cache_dir() / f"{module_name}.{sys.implementation.cache_tag}.{where}.v{CACHE_FORMAT}"


def _read_cached(file: Path, path: str) -> TypeIndex | None:
    try:
        index = TypeIndex(*marshal.loads(file.read_bytes()))
    except (OSError, EOFError, ValueError, TypeError):
        # Absent, cut short by a crash mid-write on a filesystem without atomic rename, or not
        # this layout: built again.
        return None
    return index if index.stamp == _stamp(path) else None


def _write_cached(file: Path, index: TypeIndex) -> None:
    fields = (index.stamp, index.header, index.position, index.names, index.code)
    with tempfile.NamedTemporaryFile(dir=file.parent, delete=False) as temporary:
        temporary.write(marshal.dumps(fields))
    os.replace(temporary.name, file)  # whole or not at all, for a second process building the same file


def type_index(module_name: str, path: str) -> TypeIndex | None:
    """The index of the type module at `path`, from the cache or built and cached now.

    None when the module has another shape, or when the cache cannot be written: building the index
    costs more than one usual import, so it is only worth it once.
    """
    file = _cache_file(module_name, path)
    index = _read_cached(file, path)
    if index is not None:
        return index
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(file.parent, os.W_OK):
            return None
    except OSError:
        return None
    index = build_index(path)
    if index is not None:
        try:
            _write_cached(file, index)
        except OSError:
            pass  # this run still has the index; the next one tries again
    return index


class LazyTypeModule(ModuleType):
    """A type module whose classes are defined on first attribute access (PEP 562 `__getattr__`)."""

    _index: TypeIndex

    def __getattr__(self, attr: str):
        index = self.__dict__.get("_index")
        if index is None or attr not in index.position:
            raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")
        namespace = self.__dict__
        for name in index.closure(attr):
            if name not in namespace:
                exec(marshal.loads(index.code[name]), namespace)
        return namespace[attr]


def import_lazily(module_name: str) -> ModuleType | None:
    """`module_name` (e.g. "pulumi_digitalocean._inputs") imported with lazy classes where it can be;
    None when the package has no such module.

    Already imported, of another shape, or without a writable cache: the usual import.
    """
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.find_spec(module_name)
    if spec is None:
        return None
    if spec.origin is None or not spec.origin.endswith(".py"):
        return importlib.import_module(module_name)
    index = type_index(module_name, spec.origin)
    if index is None:
        return importlib.import_module(module_name)
    module = importlib.util.module_from_spec(spec)
    module.__class__ = LazyTypeModule
    module.__dict__["_index"] = index
    # In place before the header runs, as the import system does: `outputs.py` imports itself.
    sys.modules[module_name] = module
    parent, _, child = module_name.rpartition(".")
    setattr(sys.modules[parent], child, module)
    try:
        exec(index.header, module.__dict__)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def defines(module: ModuleType, name: str) -> bool:
    """Whether the type module has the class `name`, without defining it."""
    index = module.__dict__.get("_index")
    return name in index.position if index is not None else name in getattr(module, "__all__", ())


@contextlib.contextmanager
def star_import_names(module: ModuleType, names: set[str]):
    """Within the block, `from module import *` binds only the module's classes among `names`."""
    if not isinstance(module, LazyTypeModule):
        yield
        return
    everything = module.__dict__["__all__"]
    module.__dict__["__all__"] = [name for name in everything if name in names]
    try:
        yield
    finally:
        module.__dict__["__all__"] = everything
