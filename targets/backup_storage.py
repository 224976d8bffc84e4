"""The Spaces bucket the backup job ships to, with a lifecycle rule as the retention backstop."""

from __future__ import annotations

import pulumi

from catalog.services import Catalog
from catalog.settings import Settings
from targets.sdk import provider_sdk

# Only the resource modules this file uses (targets/sdk.py says why).
do = provider_sdk("pulumi_digitalocean", "provider", "spaces_bucket")


def spaces_key_pair(catalog: Catalog) -> dict[str, str]:
    """The secrets holding the Spaces key pair, by half (`spaces_key:` in the catalog); empty if it declares none.

    The catalog's cross-check lets a pair be complete or absent only.
    """
    return {secret.spaces_key: name for name, secret in catalog.secrets.items() if secret.spaces_key is not None}


def spaces_key_values(catalog: Catalog, secrets: dict[str, pulumi.Output[str]]) -> dict[str, pulumi.Output[str]]:
    """The pair's values by half, from every secret's value by name: what BackupStorage signs in with."""
    return {half: secrets[name] for half, name in spaces_key_pair(catalog).items()}


class BackupStorage(pulumi.ComponentResource):
    """A private bucket in the droplet's region, created with the Spaces key pair (by half, as spaces_key_pair).

    The backup job deletes sets older than the retention itself and always keeps the newest;
    the lifecycle rule expires anything at twice the retention, so the bucket stays bounded
    even if the job's pruning stopped, without removing the last good backup after one missed run.
    """

    def __init__(self, name: str, settings: Settings, key_pair: dict[str, pulumi.Output[str]],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:backups:BackupStorage", name, None, opts)
        # Spaces keys are separate from the API token; the token stays the provider's usual
        # digitalocean:token config or DIGITALOCEAN_TOKEN.
        self.provider = do.Provider(
            f"{name}-spaces",
            spaces_access_id=key_pair["access_key_id"],
            spaces_secret_key=key_pair["secret_access_key"],
            token=pulumi.Config("digitalocean").get_secret("token"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.bucket = do.SpacesBucket(
            f"{name}-bucket",
            name=settings.backup_bucket,
            region=settings.region,
            acl="private",
            force_destroy=False,
            lifecycle_rules=[do.SpacesBucketLifecycleRuleArgs(
                enabled=True,
                abort_incomplete_multipart_upload_days=1,
                expiration=do.SpacesBucketLifecycleRuleExpirationArgs(days=2 * settings.backup_retention_days),
            )],
            # The backups are the way back after losing the droplet: deleting them must be deliberate.
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, protect=True),
        )
        self.register_outputs({"bucket": self.bucket.name})
