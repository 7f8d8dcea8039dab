"""The ``hoedan`` command."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console

from bot.settings import Settings, SettingsError, load_settings
from flows.texts import texts_for

if TYPE_CHECKING:
    from bot.app import Hoedan
    from bot.knowledge_export import ExportFormat
    from flows.digest import Digest
    from flows.texts import Texts
    from storage.repositories.knowledge import KnowledgeEntry
    from storage.store import Transaction

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
privacy_app = typer.Typer(
    help="De gegevens van één lid: inzien of wissen (AVG), voor beheerders.", no_args_is_help=True
)
app.add_typer(privacy_app, name="privacy")

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
    """Start Hoedan: met Slack- of Teams-instellingen als server, anders de lokale chat in de
    terminal."""
    settings = _settings()
    if settings.slack_mode is None and not settings.teams_enabled:
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
    from storage.migrate import head_revision, upgrade

    settings = _settings()
    texts = texts_for(settings.language)
    _start(lambda: upgrade(settings.database))
    typer.echo(texts.plain("cli.upgraded", revision=head_revision(settings.database)))


@db_app.command("status")
def db_status() -> None:
    """Toon de versie van de database en de nieuwste versie die Hoedan kent."""
    from storage.migrate import current_revision, head_revision

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
    from bot.knowledge_export import Exporter, build
    from storage.types import utcnow

    settings = _settings()
    texts = texts_for(settings.language)
    chosen = _chosen_format(output_format, texts)
    path = out if out is not None else Path(f"kennisbank.{chosen}")
    _check_writable(path, f"kennisbank.{chosen}", texts)
    exporter = Exporter(language=settings.language, timezone=settings.timezone)

    def render(entries: list[KnowledgeEntry]) -> bytes:
        knowledge = build(
            entries,
            network_name=settings.network_name,
            language=settings.language,
            generated_at=utcnow(),
        )
        return exporter.render(knowledge, chosen)

    entries = _report_file(
        settings,
        path,
        _knowledge_entries,
        render,
        steps=("export.cli.reading", "export.cli.building", "export.cli.writing"),
    )
    if entries:
        typer.echo(texts.plain("export.cli.written", count=len(entries), path=str(path)))
    else:
        typer.echo(texts.plain("export.cli.written_empty", path=str(path)))


async def _knowledge_entries(tx: Transaction, network_id: int | None) -> list[KnowledgeEntry]:
    """The configured network's knowledge base; empty while the network has no questions yet."""
    return [] if network_id is None else await tx.knowledge.entries(network_id=network_id)


SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since", metavar="JJJJ-MM-DD", help="De eerste dag. Standaard een week voor het eind."
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        "--until", metavar="JJJJ-MM-DD", help="De laatste dag, die meetelt. Standaard tot nu."
    ),
]
DigestOutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", metavar="BESTAND", help="Standaard digest-<van>-<tot>.<formaat> in deze map."
    ),
]

NO_NETWORK = 0
"""No stored row has id 0, so a network Hoedan has not stored yet reads as an empty one."""


@app.command()
def digest(
    since: SinceOption = None,
    until: UntilOption = None,
    output_format: FormatOption = "html",
    out: DigestOutOption = None,
) -> None:
    """Schrijf de digest voor coördinatoren weg: cijfers, signalen en wat je kunt doen."""
    from bot.digest_report import DigestReport, last_moment, window
    from flows.digest import build
    from storage.types import utcnow

    settings = _settings()
    texts = texts_for(settings.language)
    chosen = _chosen_format(output_format, texts)
    first, last = _day("--since", since, texts), _day("--until", until, texts)
    if first is not None and last is not None and last < first:
        _usage_error(
            texts.plain(
                "report.cli.until_before_since", since=first.isoformat(), until=last.isoformat()
            )
        )
    now = utcnow()
    period = window(first, last, timezone=settings.timezone, now=now)
    if period.start >= period.end:
        _usage_error(texts.plain("report.cli.in_future", since=str(first)))
    report = DigestReport(language=settings.language, timezone=settings.timezone)
    # Named after the days asked for, so a script can predict the name; the report itself
    # says when a period that has not ended yet stops (now).
    first_day = first.isoformat() if first else report.dates.iso(period.start)
    last_day = last.isoformat() if last else report.dates.iso(last_moment(period))
    name = f"digest-{first_day}-{last_day}.{chosen}"
    path = out if out is not None else Path(name)
    _check_writable(path, name, texts)

    async def read(tx: Transaction, network_id: int | None) -> Digest:
        return await build(
            tx,
            network_id=NO_NETWORK if network_id is None else network_id,
            network=settings.network_name,
            window=period,
        )

    found = _report_file(
        settings,
        path,
        read,
        lambda found: report.render(found, chosen, generated_at=now),
        steps=("report.cli.reading", "report.cli.building", "export.cli.writing"),
    )
    typer.echo(texts.plain("report.cli.written", period=report.period(found), path=str(path)))


MemberRefOption = Annotated[
    str,
    typer.Option(
        "--member",
        "-m",
        metavar="PLATFORM:ID|NAAM",
        help="Het lid: platform:id (bijvoorbeeld slack:U01ABCDEF) of de naam die Hoedan kent.",
    ),
]
PrivacyOutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", metavar="BESTAND", help="Standaard mijngegevens-<datum>.json in deze map."
    ),
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Niet om bevestiging vragen (voor scripts).")
]


@privacy_app.command("export")
def privacy_export(member: MemberRefOption, out: PrivacyOutOption = None) -> None:
    """Schrijf alles wat Hoedan over één lid bewaart naar een JSON-bestand."""
    from bot.privacy_cli import export_member

    export_member(member, out)


@privacy_app.command("erase")
def privacy_erase(member: MemberRefOption, yes: YesOption = False) -> None:
    """Wis één lid: wat alleen van hen was verdwijnt, de rest blijft onder de naam oud-lid."""
    from bot.privacy_cli import erase_member

    erase_member(member, yes=yes)


AppIdOption = Annotated[
    str,
    typer.Option(
        "--app-id",
        envvar="CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID",
        help="De app-id (client-id) van de botregistratie in Azure.",
        show_default=False,
    ),
]
WebsiteOption = Annotated[
    str,
    typer.Option(
        "--website",
        metavar="URL",
        help="Webadres (https) met uitleg; /privacy en /voorwaarden horen eronder.",
    ),
]
PackageOutOption = Annotated[
    Path, typer.Option("--out", "-o", metavar="BESTAND", help="Het zip-bestand voor Teams.")
]


@app.command("teams-package")
def teams_package(
    app_id: AppIdOption, website: WebsiteOption, out: PackageOutOption = Path("hoedan-teams.zip")
) -> None:
    """Maak het app-pakket voor Teams (manifest en iconen), om te uploaden in Teams."""
    from bot.teams.package import PackageError, build

    settings = _settings()
    texts = texts_for(settings.language)
    try:
        data = build(app_id=app_id.strip(), website=website.strip(), language=settings.language)
    except PackageError as exc:
        _usage_error(str(exc))
    _check_writable(out, "hoedan-teams.zip", texts)
    _write(out, data, texts)
    typer.echo(texts.plain("teams_app.written", path=str(out)))


def _day(option: str, value: str | None, texts: Texts) -> date | None:
    """A date as year-month-day, or a usage error in the user's language (exit code 2)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        _usage_error(
            texts.plain("report.cli.bad_date", option=option, value=value, example="2026-11-24")
        )


def _chosen_format(output_format: str, texts: Texts) -> ExportFormat:
    """The file format asked for (``.md`` and ``MD`` too), or a usage error."""
    from bot.knowledge_export import FORMATS

    known: dict[str, ExportFormat] = {name: name for name in FORMATS}
    chosen = known.get(output_format.strip().lower().lstrip("."))
    if chosen is None:
        _usage_error(texts.plain("export.cli.unknown_format", format=output_format))
    return chosen


def _report_file(
    settings: Settings,
    path: Path,
    read: Callable[[Transaction, int | None], Awaitable[T]],
    render: Callable[[T], bytes],
    *,
    steps: tuple[str, str, str],
) -> T:
    """Read from the configured network, render and write one file, under a progress bar.

    The bar goes to stderr and only on a terminal, so a script that pipes the command sees
    nothing but the final line. ``steps`` are the text keys of reading, building and writing.
    """
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    from bot.app import create_app

    texts = texts_for(settings.language)
    reading, building, writing = (texts.plain(key) for key in steps)
    hoedan = _start(lambda: create_app(settings, default_log_level="WARNING"))
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        step = progress.add_task(reading, total=3)
        found = _start(lambda: asyncio.run(_in_network(hoedan, read)))
        progress.update(step, advance=1, description=building)
        data = render(found)
        progress.update(step, advance=1, description=writing)
        _write(path, data, texts)
        progress.advance(step)
    return found


async def _in_network(hoedan: Hoedan, read: Callable[[Transaction, int | None], Awaitable[T]]) -> T:
    """``read`` in one transaction, given the configured network's id (None while Hoedan has
    not stored the network yet); the database is closed afterwards."""
    try:
        async with hoedan.store.transaction() as tx:
            network = await tx.networks.by_slug(hoedan.runtime.config.network_slug)
            return await read(tx, network.id if network is not None else None)
    finally:
        await hoedan.close()


def _write(path: Path, data: bytes, texts: Texts) -> None:
    """Write the file whole or not at all; a refused folder is a usage problem (exit code 2),
    anything else the disk says is a failure (exit code 1)."""
    from bot.knowledge_export import write_atomically

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


def _check_writable(path: Path, name: str, texts: Texts) -> None:
    """Stop before any work when the file cannot be written (exit code 2: a usage problem).

    ``name`` is the file's default name, suggested when ``path`` is a folder.
    """
    if path.is_dir():
        example = path / name
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
