"""The base of every config model: frozen, unknown keys refused, and the scale marker."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d$"


def Scale(default: Any = ..., **kwargs: Any) -> Any:  # noqa: N802 - reads like Field
    """A field that may differ between environments (parity ignores it)."""
    return Field(default, json_schema_extra={"scale": True}, **kwargs)


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


PositiveInt = Annotated[int, Field(gt=0)]


def scale_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted paths of the fields marked as scale (parity lets only these differ)."""
    paths: set[str] = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("scale"):
            paths.add(path)
            continue
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths |= scale_fields(annotation, f"{path}.")
    return paths
