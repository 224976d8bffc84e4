"""DigitalOcean droplet sizes: defined once in the policy pack (which judges capacity), re-exported here."""

from policies.devtools_policy.sizes import BACKUP_SURCHARGE, SIZES, VOLUME_USD_PER_GIB, DropletSize

__all__ = ["BACKUP_SURCHARGE", "SIZES", "VOLUME_USD_PER_GIB", "DropletSize"]
