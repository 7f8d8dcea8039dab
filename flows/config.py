"""What flows need to know about the deployment; built by bot/ from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FlowConfig:
    language: str = "nl"
    timezone: str = "Europe/Amsterdam"
    admins: frozenset[str] = field(default_factory=frozenset)
    """Platform user ids (in local mode: member names) who are admins."""
    network_slug: str = "landelijk"
    network_name: str = "Lerend netwerk"
