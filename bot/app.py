"""Start-up: settings → logging → database (migrated) → runtime. Importing this connects nothing."""

from __future__ import annotations

from dataclasses import dataclass

from bot.logs import configure_logging, register_secrets
from bot.settings import Settings
from flows.runtime import Runtime
from storage.schema_version import ensure_current
from storage.store import Store


@dataclass
class Hoedan:
    settings: Settings
    store: Store
    runtime: Runtime

    async def close(self) -> None:
        await self.store.close()


def create_app(settings: Settings, *, default_log_level: str = "INFO") -> Hoedan:
    """Build Hoedan from settings; brings the database schema up to date first."""
    configure_logging(settings.log_level or default_log_level)
    register_secrets(
        *(
            secret.get_secret_value()
            for secret in (
                settings.slack_bot_token,
                settings.slack_signing_secret,
                settings.slack_app_token,
            )
            if secret is not None
        )
    )
    urls = settings.database
    ensure_current(urls)
    store = Store(urls)
    return Hoedan(settings=settings, store=store, runtime=Runtime(store, settings.flow_config()))
