"""Structured logging to stderr, with secrets masked before anything is written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = re.compile(r"token|secret|password|signature|authorization", re.IGNORECASE)
_SECRET_VALUES = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|v0=[0-9a-f]{64}"
    r"|(?<=://)[^/@\s:]+:[^/@\s]+(?=@)"
    # A JSON Web Token: the Bot Connector's bearer tokens, and Azure's, are these.
    r"|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    # The value after "Bearer", whatever its shape.
    r"|(?i:(?<=bearer )[A-Za-z0-9._~+/-]+=*)"
    # The value of a secret-looking parameter in a URL or a key=value text (?password=…).
    r"|(?i:(?<=password=)|(?<=passwd=)|(?<=secret=)|(?<=token=)|(?<=sig=))[^&\s\"',;]+"
)
_known_secrets: set[str] = set()


def register_secrets(*values: str) -> None:
    """Mask these exact values too (a signing secret has no recognisable shape)."""
    _known_secrets.update(value for value in values if len(value) >= 8)


def _mask_text(text: str) -> str:
    text = _SECRET_VALUES.sub("***", text)
    for secret in _known_secrets:
        text = text.replace(secret, "***")
    return text


def mask_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace values of secret-looking keys, and tokens or URL passwords inside any text."""
    for key, value in list(event_dict.items()):
        if _SECRET_KEYS.search(key):
            event_dict[key] = "***"
        elif isinstance(value, str):
            event_dict[key] = _mask_text(value)
    return event_dict


def configure_logging(level: str) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_secrets,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
