"""The ``hoedan`` command."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from bot.settings import Settings, SettingsError, load_settings
from flows.texts import texts_for
from storage.migrate import current_revision, head_revision, upgrade

app = typer.Typer(
    help="Hoedan: #hoedan-vragen, #zodan-antwoorden en leren tussen regio's, in de chat.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="De database beheren.", no_args_is_help=True)
app.add_typer(db_app, name="db")

err = Console(stderr=True, highlight=False)

T = TypeVar("T")


def _settings() -> Settings:
    """Load settings or stop with a readable list of what to fix (exit code 2)."""
    try:
        return load_settings()
    except SettingsError as problem:
        texts = texts_for("nl")
        err.print(texts.plain("cli.settings_invalid"), markup=False)
        for name, why in problem.problems.items():
            err.print(f"  - {name}: {why}", markup=False)
        err.print(texts.plain("cli.settings_fix"), markup=False)
        raise typer.Exit(code=2) from None


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"hoedan {version('hoedan')}")
        raise typer.Exit


@app.callback()
def main_options(
    _version_flag: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Toon de versie."),
    ] = False,
) -> None:
    """Hoedan op de opdrachtregel."""


MemberOption = Annotated[str, typer.Option("--als", help="Je naam in de lokale chat.")]
ChannelOption = Annotated[str, typer.Option("--in", help="Het kanaal waarin je begint.")]


@app.command()
def run(member: MemberOption = "gast", channel: ChannelOption = "algemeen") -> None:
    """Start Hoedan: met Slack-instellingen in Slack, anders de lokale chat in de terminal."""
    settings = _settings()
    if settings.slack_mode is None:
        _console(member, channel)
        return
    _serve(settings)


def _serve(settings: Settings) -> None:
    """Run the server until Ctrl-C or SIGTERM, then finish acknowledged work and stop."""
    import signal

    from bot.app import create_app
    from bot.service import CannotListen, Service

    hoedan = _start(lambda: create_app(settings))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, stop.set)
            except NotImplementedError:  # Windows event loops have no signal handlers
                signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))
        await Service(hoedan).run_until_stopped(stop)

    try:
        asyncio.run(main())
    except CannotListen as exc:
        texts = texts_for(settings.language)
        err.print(
            texts.plain("cli.cannot_listen", port=settings.port, reason=str(exc)), markup=False
        )
        raise typer.Exit(code=1) from None


@app.command()
def console(member: MemberOption = "gast", channel: ChannelOption = "algemeen") -> None:
    """Chat lokaal met Hoedan in de terminal (invoer via een pipe kan ook)."""
    _console(member, channel)


def _console(member: str, channel: str) -> None:
    from bot.app import create_app
    from bot.console.run import run_console

    settings = _settings()
    hoedan = _start(lambda: create_app(settings, default_log_level="WARNING"))

    async def main() -> None:
        try:
            await run_console(hoedan, member=member, channel=channel)
        finally:
            await hoedan.close()

    asyncio.run(main())


def _start(factory: Callable[[], T]) -> T:
    """Run a start-up step, turning an unreachable database into one clear line."""
    from sqlalchemy.exc import OperationalError

    try:
        return factory()
    except OperationalError as exc:
        texts = texts_for("nl")
        reason = str(exc.orig) if exc.orig is not None else str(exc)
        err.print(texts.plain("cli.database_unreachable", reason=reason), markup=False)
        raise typer.Exit(code=1) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Breng de database naar de nieuwste versie (gebeurt ook vanzelf bij het starten)."""
    settings = _settings()
    texts = texts_for(settings.language)
    _start(lambda: upgrade(settings.database))
    typer.echo(texts.plain("cli.upgraded", revision=head_revision(settings.database)))


@db_app.command("status")
def db_status() -> None:
    """Toon de versie van de database en de nieuwste versie die Hoedan kent."""
    settings = _settings()
    texts = texts_for(settings.language)
    current = _start(lambda: current_revision(settings.database))
    typer.echo(
        texts.plain(
            "cli.status",
            current=current or texts.plain("cli.status_empty"),
            head=head_revision(settings.database),
        )
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
