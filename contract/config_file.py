"""How every part reads its one configuration file: TOML validated by a pydantic model, and a
refusal that names each offending key and its problem, in words a technician can act on."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class ConfigError(Exception):
    """A configuration file that cannot be used, with the key and the problem named."""


def describe_errors(error: ValidationError) -> str:
    """``key.path: problem`` for each error, joined with '; '."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or '(top level)'}: {item['msg']}"
        for item in error.errors()
    )


def load_toml(model: type[Model], path: Path | None, **overrides: object) -> Model:
    """``model`` validated from the TOML file at ``path`` (None: defaults only), with top-level
    ``overrides`` applied on top. Raises ``ConfigError``."""
    raw: dict[str, object] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"configuration file {path} cannot be read: {exc}") from None
    raw.update(overrides)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        where = f" in {path}" if path is not None else ""
        raise ConfigError(f"invalid configuration{where}: {describe_errors(exc)}") from None
