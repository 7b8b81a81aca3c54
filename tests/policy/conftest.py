from tests.infra.conftest import shipped, shipped_files

__all__ = ["shipped", "shipped_files"]
