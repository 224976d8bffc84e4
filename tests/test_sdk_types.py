"""Type modules with classes defined on first use (targets/sdk_types.py), on a small generated-style SDK.

Each test writes its own package and cache directory under tmp_path, imports it in this process,
and removes it from sys.modules afterwards.
"""

from __future__ import annotations

import marshal
import sys
import textwrap

import pytest
from pulumi import _types

from targets import sdk_types

HEADER = """\
import builtins as _builtins
import pulumi
from typing import Optional

__all__ = ['BucketArgs', 'RuleArgs', 'ExpiryArgs', 'UnusedArgs']

"""

CLASSES = """\
@pulumi.input_type
class BucketArgs:
    def __init__(__self__, *, rules: pulumi.Input[Optional['RuleArgs']] = None):
        pulumi.set(__self__, "rules", rules)

    @_builtins.property
    @pulumi.getter
    def rules(self) -> pulumi.Input[Optional['RuleArgs']]:
        return pulumi.get(self, "rules")


@pulumi.input_type
class RuleArgs:
    def __init__(__self__, *, expiry: pulumi.Input[Optional['ExpiryArgs']] = None):
        pulumi.set(__self__, "expiry", expiry)

    @_builtins.property
    @pulumi.getter(name="expiryDays")
    def expiry(self) -> pulumi.Input[Optional['ExpiryArgs']]:
        return pulumi.get(self, "expiry")


@pulumi.input_type
class ExpiryArgs:
    def __init__(__self__, *, days: pulumi.Input[_builtins.int]):
        pulumi.set(__self__, "days", days)

    @_builtins.property
    @pulumi.getter
    def days(self) -> pulumi.Input[_builtins.int]:
        return pulumi.get(self, "days")


class UnusedArgs:
    pass
"""


@pytest.fixture
def sdk(tmp_path, monkeypatch):
    """A package `fakesdk` with a generated-style `_inputs.py`, and an empty cache directory."""
    package = tmp_path / "src" / "fakesdk"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "_inputs.py").write_text(HEADER + CLASSES)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    yield package
    for name in [m for m in sys.modules if m == "fakesdk" or m.startswith("fakesdk.")]:
        del sys.modules[name]


def test_a_class_comes_with_the_classes_it_names_and_nothing_else(sdk):
    inputs = sdk_types.import_lazily("fakesdk._inputs")
    assert isinstance(inputs, sdk_types.LazyTypeModule) and sys.modules["fakesdk._inputs"] is inputs
    assert "BucketArgs" not in vars(inputs)
    bucket = inputs.BucketArgs
    assert {"BucketArgs", "RuleArgs", "ExpiryArgs"} <= set(vars(inputs)) and "UnusedArgs" not in vars(inputs)
    assert bucket.__module__ == "fakesdk._inputs" and bucket.__qualname__ == "BucketArgs"
    # Pulumi resolves the string annotations in the module's globals, through the chain
    rule = _types.input_type_types(bucket)["rules"]
    assert _types.unwrap_optional_type(rule) is inputs.RuleArgs
    assert _types.input_type_py_to_pulumi_names(inputs.RuleArgs) == {"expiry": "expiryDays"}
    assert inputs.BucketArgs is bucket  # defined once


def test_a_star_import_defines_every_class(sdk):
    sdk_types.import_lazily("fakesdk._inputs")
    namespace: dict = {}
    exec("from fakesdk._inputs import *", namespace)
    assert {"BucketArgs", "RuleArgs", "ExpiryArgs", "UnusedArgs"} <= set(namespace)


def test_a_narrowed_star_import_binds_only_the_names_given_and_the_full_list_returns(sdk):
    inputs = sdk_types.import_lazily("fakesdk._inputs")
    namespace: dict = {}
    with sdk_types.star_import_names(inputs, {"ExpiryArgs", "pulumi", "SomethingElse"}):
        exec("from fakesdk._inputs import *", namespace)
    assert "ExpiryArgs" in namespace and "BucketArgs" not in namespace and "pulumi" not in namespace
    assert "BucketArgs" not in vars(inputs)
    assert inputs.__all__ == ["BucketArgs", "RuleArgs", "ExpiryArgs", "UnusedArgs"]
    assert sdk_types.defines(inputs, "BucketArgs") and not sdk_types.defines(inputs, "pulumi")


def test_an_unknown_name_is_an_attribute_error(sdk):
    inputs = sdk_types.import_lazily("fakesdk._inputs")
    with pytest.raises(AttributeError, match="NoSuchArgs"):
        inputs.NoSuchArgs  # noqa: B018


def test_the_index_is_cached_and_rebuilt_when_the_source_changes(sdk, tmp_path, monkeypatch):
    sdk_types.import_lazily("fakesdk._inputs")
    cached = list((tmp_path / "cache").rglob("fakesdk._inputs.*"))
    assert len(cached) == 1
    del sys.modules["fakesdk._inputs"]

    def must_not_build(path):
        raise AssertionError(f"rebuilt {path} although the cache is fresh")

    monkeypatch.setattr(sdk_types, "build_index", must_not_build)
    assert sdk_types.import_lazily("fakesdk._inputs").ExpiryArgs.__name__ == "ExpiryArgs"
    del sys.modules["fakesdk._inputs"]

    monkeypatch.undo()  # the real build again, and the cache directory back in the environment
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (sdk / "_inputs.py").write_text(HEADER.replace("'UnusedArgs'", "'UnusedArgs', 'NewArgs'")
                                    + CLASSES + "\n\nclass NewArgs:\n    pass\n")
    assert sdk_types.import_lazily("fakesdk._inputs").NewArgs.__name__ == "NewArgs"


@pytest.mark.parametrize("damage", [lambda data: data[:100], lambda data: marshal.dumps((1, 2)),
                                    lambda data: marshal.dumps("not a tuple")])
def test_a_damaged_cache_file_is_rebuilt(sdk, tmp_path, damage):
    sdk_types.import_lazily("fakesdk._inputs")
    (cached,) = (tmp_path / "cache").rglob("fakesdk._inputs.*")
    whole = cached.read_bytes()
    cached.write_bytes(damage(whole))
    del sys.modules["fakesdk._inputs"]
    assert sdk_types.import_lazily("fakesdk._inputs").BucketArgs.__name__ == "BucketArgs"
    assert len(cached.read_bytes()) == len(whole)


def test_a_module_of_another_shape_is_imported_as_usual(sdk):
    (sdk / "_inputs.py").write_text(HEADER + CLASSES + "\nSOMETHING = BucketArgs\n")
    inputs = sdk_types.import_lazily("fakesdk._inputs")
    assert type(inputs) is not sdk_types.LazyTypeModule and inputs.SOMETHING is inputs.BucketArgs


def test_without_a_writable_cache_directory_the_import_is_the_usual_one(sdk, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    inputs = sdk_types.import_lazily("fakesdk._inputs")
    assert type(inputs) is not sdk_types.LazyTypeModule and "UnusedArgs" in vars(inputs)


def test_a_class_statement_keeps_its_line_in_the_sdk_file(sdk):
    (sdk / "_inputs.py").write_text(HEADER + CLASSES + textwrap.dedent("""

        class BrokenArgs:
            value = undefined_name
        """))
    inputs = sdk_types.import_lazily("fakesdk._inputs")
    with pytest.raises(NameError) as raised:
        inputs.BrokenArgs  # noqa: B018
    last = raised.traceback[-1]
    assert str(last.path).endswith("_inputs.py") and last.lineno + 1 == (HEADER + CLASSES).count("\n") + 4


def test_the_sdks_the_program_uses_have_the_shape_the_lazy_import_needs():
    """Pinned SDK versions: every type module the program loads is imports then classes only."""
    import importlib.util
    from pathlib import Path

    for module in ("pulumi_digitalocean._inputs", "pulumi_digitalocean.outputs", "pulumi_docker._inputs",
                   "pulumi_docker.outputs"):
        top, _, rest = module.partition(".")
        # The file's path without importing its packages into this process.
        path = Path(importlib.util.find_spec(top).origin).parent.joinpath(*rest.split(".")).with_suffix(".py")
        index = sdk_types.build_index(str(path))
        assert index is not None and len(index.position) > 20, module


def test_a_package_without_the_module_gives_none(sdk):
    assert sdk_types.import_lazily("fakesdk.outputs") is None and "fakesdk.outputs" not in sys.modules
