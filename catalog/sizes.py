"""DigitalOcean droplet sizes and the host reserve tag: defined once in the policy pack, re-exported here."""

from policies.devtools_policy.host_reserve import host_reserve_tag
from policies.devtools_policy.sizes import BACKUP_SURCHARGE, SIZES, VOLUME_USD_PER_GIB, DropletSize

__all__ = ["BACKUP_SURCHARGE", "SIZES", "VOLUME_USD_PER_GIB", "DropletSize", "host_reserve_tag"]
