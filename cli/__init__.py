"""perfenv: what you do with the environments that infra/ declares."""
