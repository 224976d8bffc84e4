"""The devtools Pulumi program: validate the inputs, then declare the platform."""

import pulumi

from catalog.errors import InputError
from catalog.program import read_inputs

try:
    inputs = read_inputs()
except InputError as error:
    # RunError prints the message without a traceback and declares nothing.
    raise pulumi.RunError(error.render()) from None

if inputs.settings.target == "doks":
    from targets.kubernetes.stack import KubernetesStack

    cluster_stack = KubernetesStack("devtools", inputs)
    pulumi.export("address", cluster_stack.address)
    pulumi.export("kubeconfig", cluster_stack.kubeconfig)
else:
    from targets.droplet.stack import DevToolsStack

    stack = DevToolsStack("devtools", inputs)
    pulumi.export("address", stack.host.address)
pulumi.export("url", f"https://{inputs.settings.domain}")
pulumi.export("services", sorted(inputs.catalog.services))
