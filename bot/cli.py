"""The ``hoedan`` command."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console

from bot.settings import Settings, SettingsError, load_settings
from flows.texts import texts_for
from storage.migrate import current_revision, head_revision, upgrade

if TYPE_CHECKING:
    from bot.app import Hoedan
    from flows.texts import Texts
    from storage.repositories.knowledge import KnowledgeEntry

app = typer.Typer(
    help="Hoedan: #hoedan-vragen, #zodan-antwoorden en leren tussen regio's, in de chat.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="De database beheren.", no_args_is_help=True)
app.add_typer(db_app, name="db")
export_app = typer.Typer(help="Gegevens naar een bestand schrijven.", no_args_is_help=True)
app.add_typer(export_app, name="export")

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


FormatOption = Annotated[
    str,
    typer.Option(
        "--format", "-f", metavar="html|md|csv", help="html (lezen en printen), md of csv."
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", metavar="BESTAND", help="Standaard kennisbank.<formaat> in deze map."
    ),
]


@export_app.command("kennisbank")
def export_kennisbank(output_format: FormatOption = "html", out: OutOption = None) -> None:
    """Schrijf de kennisbank van het netwerk weg: per thema de vragen, #zodan en #zodus."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    from bot.app import create_app
    from bot.knowledge_export import FORMATS, Exporter, build, write_atomically
    from storage.types import utcnow

    settings = _settings()
    texts = texts_for(settings.language)
    chosen = output_format.strip().lower().lstrip(".")
    if chosen not in FORMATS:
        _usage_error(texts.plain("export.cli.unknown_format", format=output_format))
    path = out if out is not None else Path(f"kennisbank.{chosen}")
    _check_writable(path, chosen, texts)

    hoedan = _start(lambda: create_app(settings, default_log_level="WARNING"))
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        step = progress.add_task(texts.plain("export.cli.reading"), total=3)
        entries = _start(lambda: asyncio.run(_knowledge_entries(hoedan)))
        progress.update(step, advance=1, description=texts.plain("export.cli.building"))
        knowledge = build(
            entries,
            network_name=settings.network_name,
            language=settings.language,
            generated_at=utcnow(),
        )
        data = Exporter(language=settings.language, timezone=settings.timezone).render(
            knowledge, chosen
        )
        progress.update(step, advance=1, description=texts.plain("export.cli.writing"))
        try:
            write_atomically(path, data)
        except PermissionError:
            _usage_error(texts.plain("export.cli.not_allowed", folder=str(path.parent)))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            err.print(
                texts.plain("export.cli.write_failed", path=str(path), reason=reason), markup=False
            )
            raise typer.Exit(code=1) from None
        progress.advance(step)
    if entries:
        typer.echo(texts.plain("export.cli.written", count=len(entries), path=str(path)))
    else:
        typer.echo(texts.plain("export.cli.written_empty", path=str(path)))


async def _knowledge_entries(hoedan: Hoedan) -> list[KnowledgeEntry]:
    """The configured network's knowledge base; empty while the network has no questions yet."""
    try:
        async with hoedan.store.transaction() as tx:
            network = await tx.networks.by_slug(hoedan.runtime.config.network_slug)
            if network is None or network.id is None:
                return []
            return await tx.knowledge.entries(network_id=network.id)
    finally:
        await hoedan.close()


def _check_writable(path: Path, chosen: str, texts: Texts) -> None:
    """Stop before any work when the file cannot be written (exit code 2: a usage problem)."""
    if path.is_dir():
        example = path / f"kennisbank.{chosen}"
        _usage_error(texts.plain("export.cli.is_folder", path=str(path), example=str(example)))
    folder = path.parent
    if not folder.is_dir():
        _usage_error(texts.plain("export.cli.no_folder", folder=str(folder)))
    if not os.access(folder, os.W_OK):
        _usage_error(texts.plain("export.cli.not_allowed", folder=str(folder)))


def _usage_error(message: str) -> NoReturn:
    err.print(message, markup=False, soft_wrap=True)
    raise typer.Exit(code=2)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
