"""Rules of the devtools CrossGuard pack, importable without the pack's gRPC server."""
