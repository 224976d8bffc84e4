"""Pulumi components and the input models they are built from."""
