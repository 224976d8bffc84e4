"""The devtools CrossGuard policy pack: `pulumi preview --policy-pack policies`.

The engine runs this file with the pack's folder as the working directory and reads the port the
analyzer server prints. Everything the pack needs is in devtools_policy/, imported relatively, so the
folder works on its own.
"""

import gc

from devtools_policy.pack import PACK_NAME, policies
from pulumi_policy import PolicyPack

# The pack's calls leave no cyclic garbage (tests/test_policies_shared_conversions.py counts it), while
# the cycle collector rescans everything a large AnalyzeStack holds, again and again as it grows: at
# 1000 services that call took 3.0 s with the collector and 1.2 s without.
gc.disable()

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    description="The Dev-Tools platform's audit rules, CIS Docker Benchmark section 5 and KICS docker-compose checks.",
    display_name="Dev-Tools platform policies",
    provider="docker, digitalocean",
    tags=["docker", "digitalocean", "cis-docker", "kics"],
)
