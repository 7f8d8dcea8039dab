"""Start-up: settings → logging → database (migrated) → runtime. Importing this connects nothing."""

from __future__ import annotations

from dataclasses import dataclass

from bot.logs import configure_logging
from bot.settings import Settings
from flows.runtime import Runtime
from storage.migrate import upgrade
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
    urls = settings.database
    upgrade(urls)
    store = Store(urls)
    return Hoedan(settings=settings, store=store, runtime=Runtime(store, settings.flow_config()))
