"""A generated resource class registering what it always does, without an Output per input left unset."""

from __future__ import annotations

from functools import cache
from typing import Any

import pulumi
from pulumi import _types


@cache
def _declared_inputs(args_class: type) -> frozenset[str]:
    """The Python names of the inputs an SDK `...Args` class declares (not the outputs put beside them)."""
    return frozenset(_types.input_type_py_to_pulumi_names(args_class))


class UnsetInputsLeftOut(pulumi.CustomResource):
    """Mixed in after a generated resource class, as in `class Container(docker.Container, UnsetInputsLeftOut)`,
    so that the generated class's call to `CustomResource.__init__` comes here first.

    A generated class hands the SDK every property it knows, each input not given as None. The SDK
    makes an Output of each (four futures, resolved once the engine answers) and sends none of the
    None ones, so the request is the same without them. pulumi-docker's Container knows about eighty,
    of which a service sets about twenty-five: at 2000 services the rest cost the preview 3 s.

    So an input the program leaves unset has no Output on the object (reading it gives None, where the
    generated class gives an Output of what the provider chose): the program reads back only inputs it
    sets. The outputs only the provider computes (a container's exit_code) are kept.
    """

    def __init__(self, resource_type: str, name: str, props: Any = None,
                 opts: pulumi.ResourceOptions | None = None, *args: Any, **kwargs: Any) -> None:
        if props is not None and _types.is_input_type(type(props)):
            declared, fields = _declared_inputs(type(props)), vars(props)
            for key in [key for key, value in fields.items() if value is None and key in declared]:
                del fields[key]
        super().__init__(resource_type, name, props, opts, *args, **kwargs)
