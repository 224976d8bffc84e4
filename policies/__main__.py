"""The devtools CrossGuard policy pack: `pulumi preview --policy-pack policies`.

The engine runs this file with the pack's folder as the working directory and reads the port the
analyzer server prints. Everything the pack needs is in devtools_policy/, imported relatively, so the
folder works on its own.
"""

from devtools_policy.pack import PACK_NAME, policies
from pulumi_policy import PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    description="The Dev-Tools platform's audit rules, CIS Docker Benchmark section 5 and KICS docker-compose checks.",
    display_name="Dev-Tools platform policies",
    provider="docker, digitalocean",
    tags=["docker", "digitalocean", "cis-docker", "kics"],
)
