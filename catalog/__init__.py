"""The inputs: the service catalog and the stack settings, as validated models."""
