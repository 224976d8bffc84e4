"""`python -m ops rotate <secret>`: the ordered steps to rotate one of the catalog's secrets.

Prints the procedure with the real names filled in (stack, config key, the URN of the
generated value, the consumers' container URNs), the expected downtime and the emergency
revocation. It prints; it does not run anything (the steps need the Pulumi CLI, the
stack's state and SSH to the droplet). `--list` shows every secret at a glance.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from catalog.errors import InputError
from catalog.inputs import load_inputs
from ops.engine import Recorded, run_program
from ops.rotation import Context, Procedure, consumers, procedure
from ops.stack_values import PROJECT
from ops.stackfile import read_stack_config
from policies.devtools_policy.docker import CONTAINER

PASSWORD = "random:index/randomPassword:RandomPassword"


def add_arguments(parser) -> None:
    parser.add_argument("secret", nargs="?", help="a secret of the catalog (see --list)")
    parser.add_argument("--list", action="store_true", help="every secret: source, consumers, strategy, downtime")
    parser.add_argument("--stack", default="prod", help="stack (default: prod)")


def engine_urn(resource: Recorded, by_urn: dict[str, Recorded], stack: str) -> str:
    """The URN the real engine gives: every ancestor's type, joined by $ (the mocks keep only the parent's)."""
    types = [resource.type]
    parent = resource.parent
    while parent in by_urn:
        types.insert(0, by_urn[parent].type)
        parent = by_urn[parent].parent
    return f"urn:pulumi:{stack}::{PROJECT}::{'$'.join(types)}::{resource.name}"


def contexts(stack: str) -> dict[str, Context]:
    stack_config = read_stack_config(stack)
    inputs = load_inputs(stack_config.config, stack)
    resources = run_program(stack_config.config, stack_config.secret_keys, stack)
    by_urn = {r.urn: r for r in resources}
    passwords = {r.name: engine_urn(r, by_urn, stack) for r in resources if r.type == PASSWORD}
    containers = {r.name: engine_urn(r, by_urn, stack) for r in resources if r.type == CONTAINER}
    by_name = {
        name: Context(
            secret=name,
            description=spec.description,
            stack=stack,
            consumers=consumers(inputs.catalog, name),
            config_key=spec.config,
            password_urn=passwords.get(f"secrets-{name}"),
            container_urns=containers,
            catalog=inputs.catalog,
            settings=inputs.settings,
        )
        for name, spec in inputs.catalog.secrets.items()
    }
    # A derived secret is rotated through its source (never itself derived: see cross_check).
    for name, spec in inputs.catalog.secrets.items():
        if spec.derive is not None:
            by_name[name] = replace(by_name[name], derived_from=by_name[spec.derive.source])
    return by_name


def describe_source(ctx: Context, long: bool = False) -> str:
    if ctx.derived_from is not None:
        return f"derived from {ctx.derived_from.secret}" if long else "derived"
    if ctx.config_key:
        return f"stack secret config devtools:{ctx.config_key}" if long else "config"
    return f"generated ({ctx.password_urn})" if long else "generated"


def render(ctx: Context, proc: Procedure) -> str:
    source = describe_source(ctx, long=True)
    lines = [
        f"Rotate {ctx.secret}: {ctx.description}",
        f"  source:    {source}",
        f"  used by:   {', '.join(ctx.consumers) or 'no service'}",
        f"  strategy:  {proc.strategy}",
        f"  downtime:  {proc.downtime}",
        *([f"  note:      {proc.note}"] if proc.note else []),
        "steps:",
    ]
    for number, step in enumerate(proc.steps, start=1):
        lines.append(f"  {number}. {step.text}")
        if step.command:
            lines.append(f"     $ {step.command}")
    lines.append("emergency revocation:")
    for step in proc.emergency:
        lines.append(f"  - {step.text}")
        if step.command:
            lines.append(f"     $ {step.command}")
    return "\n".join(lines)


def run(args) -> int:
    try:
        by_name = contexts(args.stack)
    except InputError as error:
        print(error.render(), file=sys.stderr)
        return 2
    if args.list or not args.secret:
        for name, ctx in by_name.items():
            proc = procedure(ctx)
            source = describe_source(ctx)
            print(f"{name:<28} {source:<9} {proc.strategy}; downtime: {proc.downtime.split(';')[0]}")
        return 0
    if args.secret not in by_name:
        print(f"rotate: {args.secret!r} is not a secret of the catalog; one of: {', '.join(by_name)}", file=sys.stderr)
        return 2
    ctx = by_name[args.secret]
    print(render(ctx, procedure(ctx)))
    return 0
