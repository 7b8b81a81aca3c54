"""perfenv's Pulumi policy pack (`PulumiPolicy.yaml`, `__main__.py`) and its rules (`rules`)."""
