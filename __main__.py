"""The devtools Pulumi program: validate the inputs, then declare the platform."""

import pulumi

from catalog.errors import InputError
from catalog.program import read_inputs
from targets.droplet.stack import DevToolsStack

try:
    inputs = read_inputs()
except InputError as error:
    # RunError prints the message without a traceback and declares nothing.
    raise pulumi.RunError(error.render()) from None

stack = DevToolsStack("devtools", inputs)
pulumi.export("address", stack.host.address)
pulumi.export("url", f"https://{inputs.settings.domain}")
pulumi.export("services", sorted(inputs.catalog.services))
