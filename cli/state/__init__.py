"""Run state: the state store, run manifests and the run registry, the signal policy."""
