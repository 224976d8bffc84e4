"""The platform's credentials as Pulumi secrets: generated, from the stack's secret config, or derived."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_random as random

from catalog.services import Catalog
from catalog.settings import NAMESPACE
from render.secret_renderers import SECRET_RENDERERS


def derived_value(renderer: str | None, template: str | None) -> Callable[[str], str]:
    """The function from a source secret's value to the derived file: a named renderer or a template."""
    if renderer is not None:
        return SECRET_RENDERERS[renderer]
    assert template is not None  # the catalog model requires one of the two
    return lambda value: template.replace("{secret}", value)


class Secrets(pulumi.ComponentResource):
    """`values[name]` is the secret Output of each catalog secret; nothing here is ever plain text."""

    def __init__(self, name: str, catalog: Catalog, opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:secrets:Secrets", name, None, opts)
        config = pulumi.Config(NAMESPACE)
        self.values: dict[str, pulumi.Output[str]] = {}
        for secret_name, spec in catalog.secrets.items():
            if spec.generate is not None:
                password = random.RandomPassword(
                    f"{name}-{secret_name}",
                    length=spec.generate.length,
                    # Letters and digits only: these end up in URLs, config files and shell commands.
                    special=False,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                self.values[secret_name] = pulumi.Output.secret(password.result)
            elif spec.config is not None:
                # Presence and placeholders were checked before any resource was declared.
                self.values[secret_name] = config.require_secret(spec.config)
        # Derived secrets last: their sources (never themselves derived, see cross_check) exist now.
        for secret_name, spec in catalog.secrets.items():
            if spec.derive is not None:
                render = derived_value(spec.derive.renderer, spec.derive.template)
                self.values[secret_name] = pulumi.Output.secret(self.values[spec.derive.source].apply(render))
        self.register_outputs({})
