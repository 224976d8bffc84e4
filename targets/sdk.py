"""A Pulumi provider SDK with only the resource modules the program uses imported.

A generated SDK's `__init__.py` imports every resource module of its provider: pulumi_digitalocean's
is about 190 modules, which costs more than the whole program takes to declare the stack. Here the
package is set up without running its `__init__.py`; only the named modules (and the shared
`_enums`, `_inputs`, `outputs`, the last two with their classes defined on first use:
targets/sdk_types.py) are imported and their names put on the package, as `__init__.py` would
(`from .droplet import *`), and the provider's resource types are registered as `__init__.py`
registers them. So `do.Droplet` is the very class a full import gives. Anyone asking the package for
a name not loaded this way (another module's `import pulumi_digitalocean as do; do.App`) gets the
rest of `__init__.py` run first, so the package is never seen incomplete.

The Kubernetes target needs none of this: it registers its objects from their API documents
(targets/kubernetes/objects.py), and pulumi_kubernetes imports its API groups lazily itself.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from types import ModuleType

from targets.sdk_types import defines, import_lazily, mentioned_names, star_import_names


def _is_register_call(node: ast.stmt) -> bool:
    """`_utilities.register(...)`, read from the tree (ast.unparse of every statement took 14 ms)."""
    func = node.value.func if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) else None
    return (isinstance(func, ast.Attribute) and func.attr == "register"
            and isinstance(func.value, ast.Name) and func.value.id == "_utilities")


def _compiled(statements: list[ast.stmt], path: str):
    return compile(ast.Module(body=statements, type_ignores=[]), path, "exec")


def _lean(name: str) -> ModuleType:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None or spec.origin is None:
        raise ModuleNotFoundError(f"no package named {name!r}", name=name)
    package = importlib.util.module_from_spec(spec)
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), spec.origin)
    # Registering a resource module twice is an error, so the registration runs once, now, and the
    # rest of __init__.py only if someone needs it.
    register = [node for node in tree.body if _is_register_call(node)]
    rest = [node for node in tree.body if not _is_register_call(node)]
    # What __init__.py binds as a submodule (`from . import outputs`). Any other name, even one a
    # submodule has too (a `service` module holding class `service`), is what the star imports bind.
    submodules = {alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                  and node.level == 1 and node.module is None for alias in node.names}

    def __getattr__(attr: str):  # PEP 562: called only for names the package lacks
        if attr.startswith("__"):
            raise AttributeError(attr)
        if attr in submodules:
            # A submodule (`from . import outputs` in each resource module): just that one.
            return importlib.import_module(f"{name}.{attr}")
        inputs = sys.modules.get(f"{name}._inputs")
        if inputs is not None and defines(inputs, attr):  # `from ._inputs import *` would bind it
            return getattr(inputs, attr)
        del package.__dict__["__getattr__"]
        exec(_compiled(rest, spec.origin), package.__dict__)
        return getattr(package, attr)

    package.__getattr__ = __getattr__
    sys.modules[name] = package
    if register:
        package._utilities = importlib.import_module(f"{name}._utilities")
        exec(_compiled(register, spec.origin), {"_utilities": package._utilities})
    return package


def _star(module: ModuleType) -> dict:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [key for key in vars(module) if not key.startswith("_")]
    return {key: getattr(module, key) for key in names}


def _import_resource_module(module_name: str, inputs: ModuleType | None) -> ModuleType:
    """A resource module, whose `from ._inputs import *` binds only the input types its source names."""
    if inputs is None:
        return importlib.import_module(module_name)
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"no module named {module_name!r}", name=module_name)
    with open(spec.origin, encoding="utf-8") as source:
        names = mentioned_names(source.read())
    with star_import_names(inputs, names):
        return importlib.import_module(module_name)


def provider_sdk(name: str, *modules: str) -> ModuleType:
    """The package `name` with `modules` (e.g. "droplet", "firewall") loaded and their names on it."""
    package = sys.modules.get(name) or _lean(name)
    if importlib.util.find_spec(f"{name}._enums") is not None:  # not every package has enums
        package.__dict__.update(_star(importlib.import_module(f"{name}._enums")))
    # The type modules' classes are defined on first use (targets/sdk_types.py); the package finds
    # an input type it is asked for (`do.VpcArgs`) in `_inputs` before it runs the rest of __init__.py.
    inputs = import_lazily(f"{name}._inputs")
    import_lazily(f"{name}.outputs")
    for module_name in modules:
        package.__dict__.update(_star(_import_resource_module(f"{name}.{module_name}", inputs)))
    return package
