"""Deployment targets: Pulumi components that turn the validated catalog into resources."""
