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
    intervision_retention_days: int = 90
    """What was said in an intervision is deleted this many days after the session ended
    (shared lessons stay, without their author); 0 keeps it for ever."""
