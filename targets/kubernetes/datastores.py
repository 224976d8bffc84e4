"""Managed datastores: each catalog datastore as a DigitalOcean managed database reachable only from the cluster.

Which engine serves a datastore is read from its image's repository (a `postgres` image becomes engine
`pg`, a `redis` image becomes `valkey`, Redis's open-source successor that DigitalOcean offers). The
catalog's name for it stays the in-cluster host name through an ExternalName Service (see stack.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from catalog.inputs import Inputs
from catalog.services import Service
from targets.sdk import provider_sdk

# Only the resource modules this file uses (targets/sdk.py says why).
do = provider_sdk("pulumi_digitalocean", "database_cluster", "database_firewall", "database_db", "database_user")


@dataclass(frozen=True)
class Engine:
    engine: str
    port: int                 # what DigitalOcean's managed engine listens on
    user_env: str | None      # the image's variable naming the platform's role (Postgres), if any
    database_env: str | None  # and its database
    version: str | None = None
    # The managed engine accepts only TLS; how a client's value must say so (see over_tls):
    url_scheme: str | None = None   # URLs of this scheme take its TLS scheme (`rediss`), or
    sslmode: bool = False           # a connection string's `sslmode` becomes `require`


# By image repository; a datastore whose image is not here stays in the cluster (StatefulSet).
ENGINES = {
    # A client that names no sslmode negotiates TLS already: libpq's default (psql, pg_dump, psycopg) and
    # asyncpg's since 0.22 are `prefer` (docs/KUBERNETES.md); only an explicit sslmode needs rewriting.
    "postgres": Engine("pg", 25060, "POSTGRES_USER", "POSTGRES_DB", sslmode=True),
    "redis": Engine("valkey", 25061, None, None, version="8", url_scheme="redis"),
}
SSLMODE = re.compile(r"sslmode=(?:disable|allow|prefer)\b")  # weaker than require; verify-* stay


def engine_of(spec: Service) -> Engine | None:
    repository, _, tag = spec.image.rpartition("/")[2].partition(":")
    engine = ENGINES.get(repository)
    if engine is None:
        return None
    # Postgres keeps the catalog's major version; Valkey has its own numbering.
    return engine if engine.version else Engine(**{**engine.__dict__, "version": tag.split(".")[0]})


def over_tls(value: str, store: str, port: int, endpoint: Endpoint) -> pulumi.Input[str]:
    """`value` as a client of the managed engine must write it to connect: TLS, which the engine requires.

    A URL of the engine's scheme naming the datastore (`store:port`, the catalog's or the managed port) takes
    the TLS scheme and the managed private host, the name its certificate is issued for (not the catalog's).
    A Postgres URI's `sslmode` becomes `require`. Anything else is returned unchanged.
    """
    engine, managed_port = endpoint.engine, endpoint.port
    if engine.url_scheme is not None:
        address = re.compile(rf"{engine.url_scheme}://([^@/\s]*@)?{re.escape(store)}:(?:{port}|{managed_port})\b")
        if address.search(value):
            return endpoint.host.apply(lambda private: address.sub(
                lambda found: f"{engine.url_scheme}s://{found.group(1) or ''}{private}:{managed_port}", value))
        return value
    if engine.sslmode and f"{store}:" in value:
        return SSLMODE.sub("sslmode=require", value)
    return value


def managed_datastores(inputs: Inputs) -> dict[str, Engine]:
    """Catalog datastores the stack runs as managed databases."""
    k8s_settings = inputs.settings.kubernetes
    if k8s_settings is None or k8s_settings.datastores != "managed":
        return {}
    found = {name: engine_of(spec) for name, spec in inputs.catalog.services.items() if spec.role == "datastore"}
    return {name: engine for name, engine in found.items() if engine is not None}


@dataclass(frozen=True)
class DatastoresArgs:
    inputs: Inputs
    engines: dict[str, Engine]
    vpc_id: pulumi.Input[str]
    cluster_id: pulumi.Input[str]


@dataclass(frozen=True)
class Endpoint:
    host: pulumi.Output[str]
    port: int
    password: pulumi.Output[str]   # secret: replaces the catalog secrets the datastore itself reads
    engine: Engine


class ManagedDatastores(pulumi.ComponentResource):
    """`endpoints[name]`: where each managed datastore listens privately and the password the platform logs in with."""

    def __init__(self, name: str, args: DatastoresArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:kubernetes:ManagedDatastores", name, None, opts)
        settings = args.inputs.settings
        k8s_settings = settings.kubernetes
        assert k8s_settings is not None
        stack = pulumi.get_stack()
        self.endpoints: dict[str, Endpoint] = {}
        self.clusters: dict[str, do.DatabaseCluster] = {}
        for service, engine in args.engines.items():
            spec = args.inputs.catalog.services[service]
            child = pulumi.ResourceOptions(parent=self)
            size = k8s_settings.database_size if engine.engine == "pg" else k8s_settings.cache_size
            cluster = do.DatabaseCluster(
                f"{name}-{service}",
                name=f"devtools-{stack}-{service}",
                engine=engine.engine,
                version=engine.version,
                size=size,
                node_count=k8s_settings.database_nodes,
                region=settings.region,
                # Private network only: the cluster reaches it inside the VPC.
                private_network_uuid=args.vpc_id,
                # An event bus must refuse writes rather than silently drop events (as redis.conf's noeviction).
                eviction_policy="noeviction" if engine.engine == "valkey" else None,
                maintenance_windows=[do.DatabaseClusterMaintenanceWindowArgs(
                    day=k8s_settings.maintenance_day, hour=f"{k8s_settings.maintenance_start}:00")],
                tags=list(settings.tags),
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
            do.DatabaseFirewall(
                f"{name}-{service}-firewall",
                cluster_id=cluster.id,
                # Only the Kubernetes cluster's nodes may connect.
                rules=[do.DatabaseFirewallRuleArgs(type="k8s", value=args.cluster_id)],
                opts=child,
            )
            password: pulumi.Output[str] = cluster.password
            if engine.user_env and engine.database_env:
                database = do.DatabaseDb(f"{name}-{service}-db", cluster_id=cluster.id,
                                         name=spec.environment[engine.database_env], opts=child)
                user = do.DatabaseUser(f"{name}-{service}-user", cluster_id=cluster.id,
                                       name=spec.environment[engine.user_env],
                                       opts=pulumi.ResourceOptions(parent=self, depends_on=[database]))
                password = user.password
            self.clusters[service] = cluster
            self.endpoints[service] = Endpoint(cluster.private_host, engine.port, pulumi.Output.secret(password), engine)
        self.register_outputs({})
