"""The `tertulia` command."""

from __future__ import annotations

import getpass
import os
import signal
import sys
from types import FrameType
from typing import NoReturn

import click

from tertulia import __version__
from tertulia.cli.bootstrap import fail, require_services, setup_django

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

data_dir_option = click.option(
    "--data-dir",
    type=str,  # checked by config.prepare_data_dir, which says what to fix in one line
    envvar="TERTULIA_DATA_DIR",
    help=(
        "Folder for the database, queue and secret key "
        "[env TERTULIA_DATA_DIR; default ~/.local/share/tertulia]."
    ),
)
host_option = click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
port_option = click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tertulia")
def cli() -> None:
    """Tertulia: self-hosted social media operations."""


@cli.command()
@data_dir_option
@host_option
@port_option
@click.option(
    "--rate",
    default=12,
    show_default=True,
    type=click.IntRange(0, 6000),
    help="Simulated community messages per minute on the demo brand (0 for none).",
)
@click.option("--seed", default=2026, show_default=True, type=int, help="Seed of the traffic simulator.")
def demo(data_dir: str | None, host: str, port: int, rate: int, seed: int) -> None:
    """Create the data directory, load a demo brand with live sandbox traffic, and start everything."""
    setup_django(data_dir)
    require_services()
    from tertulia.cli.migrate import migrate_with_progress
    from tertulia.cli.server import port_problem, run_server
    from tertulia.demo.loader import load_demo

    problem = port_problem(host, port)
    if problem:
        fail(problem)
    click.echo("[1/3] Database")
    migrate_with_progress()
    click.echo("[2/3] Demo organization")
    login = load_demo(rate_per_minute=rate, seed=seed, progress=lambda msg: click.echo(f"      {msg}"))
    click.echo("[3/3] Starting web server and worker")
    click.echo("")
    click.secho("  Demo login", bold=True)
    click.echo(f"    e-mail:   {login.email}")
    click.echo(f"    password: {login.password}")
    click.echo("")
    run_server(host, port)


@cli.command()
@data_dir_option
@host_option
@port_option
@click.option("--no-worker", is_flag=True, help="Web only; run `tertulia worker` processes separately.")
@click.option("--worker-threads", default=2, show_default=True, type=click.IntRange(1, 64))
def serve(data_dir: str | None, host: str, port: int, no_worker: bool, worker_threads: int) -> None:
    """Run the web server (ASGI) with an in-process-tree worker."""
    setup_django(data_dir)
    require_services()
    from tertulia.cli.migrate import pending_migrations
    from tertulia.cli.server import run_server

    if pending_migrations():
        fail("the database needs migrating: run `tertulia migrate` first")
    run_server(host, port, with_worker=not no_worker, worker_threads=worker_threads)


@cli.command()
@data_dir_option
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
@click.option("--parent-pid", type=int, hidden=True)
def worker(data_dir: str | None, threads: int, parent_pid: int | None) -> None:
    """Run a background worker (any number may run, on any machine, in the scale-out profile)."""
    try:
        setup_django(data_dir)
        require_services()
        from tertulia.tasks.worker import run_worker

        run_worker(threads=threads, parent_pid=parent_pid)
    except KeyboardInterrupt:
        # Asked to stop before the queue consumer took over Ctrl+C (`tertulia serve` stopping just
        # after it started us, or a quick Ctrl+C): that is a normal stop, not click's "Aborted!".
        return


@cli.command()
@data_dir_option
def migrate(data_dir: str | None) -> None:
    """Create or update the database schema."""
    setup_django(data_dir)
    require_services()
    from tertulia.cli.migrate import migrate_with_progress

    applied = migrate_with_progress()
    click.echo(f"Database is up to date ({applied} migrations applied).")


@cli.command()
@data_dir_option
@click.option("--email", prompt=True, help="The administrator's e-mail address.")
@click.option(
    "--organization", "organization_name", default="", help="Create this organization, owned by them."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def createadmin(data_dir: str | None, email: str, organization_name: str, password_stdin: bool) -> None:
    """Create an administrator (or reset their password), optionally with a new organization."""
    setup_django(data_dir)
    require_services()
    from tertulia.cli.admin import create_admin

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            fail("the passwords do not match")
    problems = create_admin(email, password, organization_name)
    if problems:
        fail(" ".join(problems))
    click.echo(f"Administrator {email} is ready.")


@cli.command()
@data_dir_option
def check(data_dir: str | None) -> None:
    """Report the configuration and whether the database, queue and live updates are reachable."""
    setup_django(data_dir)
    from tertulia.cli.report import run_check

    sys.exit(run_check())


@cli.group()
def vault() -> None:
    """The credential vault: where channel tokens are kept, encrypted."""


@vault.command("status")
@data_dir_option
def vault_status(data_dir: str | None) -> None:
    """Which master keys exist and how many credentials each one wraps."""
    setup_django(data_dir)
    require_services()
    from tertulia.cli.vault import print_status

    print_status()


@vault.command("rotate")
@data_dir_option
@click.option(
    "--new-key/--no-new-key",
    default=True,
    show_default=True,
    help="Generate a new master key first (file keyring); with TERTULIA_VAULT_KEYS, add it there yourself.",
)
def vault_rotate(data_dir: str | None, new_key: bool) -> None:
    """Re-wrap every credential's data key with the current (or a new) master key."""
    setup_django(data_dir)
    require_services()
    from tertulia.cli.vault import rotate_keys

    rotate_keys(new_key)


@cli.group()
def apps() -> None:
    """Tertulia's own registrations with networks (OAuth client, webhook secret)."""


@apps.command("set")
@data_dir_option
@click.argument("network")
@click.option("--client-id", required=True, help="The client (app) id the network gave you.")
@click.option(
    "--base-url", default="", help="The server, for networks with many (e.g. https://mastodon.social)."
)
def apps_set(data_dir: str | None, network: str, client_id: str, base_url: str) -> None:
    """Register or update an app. Secrets are read from standard input as NAME=VALUE lines
    (client_secret=..., webhook_secret=...), never from the command line."""
    setup_django(data_dir)
    require_services()
    from tertulia.cli.apps import set_app

    set_app(network, client_id, base_url, sys.stdin.read())


@apps.command("list")
@data_dir_option
def apps_list(data_dir: str | None) -> None:
    """The registered apps (never their secrets)."""
    setup_django(data_dir)
    require_services()
    from tertulia.cli.apps import list_apps

    list_apps()


@cli.group()
def query() -> None:
    """The listening query language (docs/listening.md): check a query, match posts against queries."""


@query.command("check")
@data_dir_option
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the parse or the error as JSON.")
def query_check(data_dir: str | None, text: str | None, as_json: bool) -> None:
    """Print how QUERY parses, or where it is wrong (exit code 1).

    Without QUERY, read it from standard input."""
    setup_django(data_dir)
    from tertulia.cli.queries import check_query

    sys.exit(check_query(sys.stdin.read() if text is None else text, as_json))


@query.command("match")
@data_dir_option
@click.argument("queries_file", type=click.Path(dir_okay=False))
def query_match(data_dir: str | None, queries_file: str) -> None:
    """Match posts (JSON lines on standard input: id, text, and optionally author, lang, url, network,
    channel, followers) against QUERIES_FILE (one id<TAB>query per line); write one JSON line per post:
    {"id": ..., "matches": [query ids]}."""
    setup_django(data_dir)
    from tertulia.cli.queries import run_match

    run_match(queries_file)


@cli.group()
def nlp() -> None:
    """Message analysis from a pipe: one text per input line, one answer per output line."""


@nlp.command("sentiment")
@data_dir_option
@click.option(
    "--model",
    type=click.Choice(["fast", "plus"]),
    default="fast",
    show_default=True,
    help="fast: the built-in model (about 20,000 lines/s). plus: more accurate, a few lines/s, "
    "needs the sentiment-plus extra (docs/nlp-model-card.md).",
)
def nlp_sentiment(data_dir: str | None, model: str) -> None:
    """Write negative, neutral or positive for each line of standard input."""
    setup_django(data_dir)
    from tertulia.cli.nlp import label_lines, label_lines_plus, plus_problem, sentiment_of

    if model == "plus":
        problem = plus_problem()
        if problem:
            fail(problem)
        label_lines_plus()
    else:
        label_lines(sentiment_of)


@nlp.command("language")
@data_dir_option
def nlp_language(data_dir: str | None) -> None:
    """Write the language code (ISO 639-1, or "und" when unsure) of each line of standard input."""
    setup_django(data_dir)
    from tertulia.cli.nlp import label_lines, language_of

    label_lines(language_of)


@cli.group()
def audit() -> None:
    """The audit trail: check its hash chains, export it (docs/audit.md)."""


@audit.command("verify")
@data_dir_option
@click.option("--organization", "slug", default=None, help="Only this organization's chain (its slug).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def audit_verify(data_dir: str | None, slug: str | None, as_json: bool) -> None:
    """Walk each chain and report OK with counts, or its first broken link (exit code 1)."""
    setup_django(data_dir)
    require_services()
    from tertulia.cli.audit import verify

    sys.exit(verify(slug, as_json))


@audit.command("export")
@data_dir_option
@click.option("--organization", "slug", required=True, help="The organization's slug.")
@click.option("--since", default=None, help="From this date or date-time (UTC unless given).")
@click.option("--until", default=None, help="To this date (included) or date-time (excluded).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--output", "-o", default=None, help="Write to this file instead of standard output.")
def audit_export(
    data_dir: str | None, slug: str, since: str | None, until: str | None, fmt: str, output: str | None
) -> None:
    """Export an organization's entries with their hashes, an unbroken run of its chain that
    `tertulia audit verify-file` (or the standalone audit_chain.py) checks offline."""
    setup_django(data_dir)
    require_services()
    from tertulia.cli.audit import export

    export(slug, since, until, fmt, output)


@audit.command("verify-file")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--allow-gaps", is_flag=True, help="A filtered list (the web page's CSV): check entries one by one."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def audit_verify_file(path: str, allow_gaps: bool, as_json: bool) -> None:
    """Check an export (JSON lines or CSV) offline, without a database; exit code 1 if broken."""
    from tertulia.cli.audit import verify_file

    sys.exit(verify_file(path, allow_gaps, as_json))


@cli.command("delete-organization")
@data_dir_option
@click.argument("slug")
@click.option("--confirm", default="", help="The slug again: nothing is deleted without it.")
@click.option("--export", "export_to", default=None, help="First export its audit trail (JSON lines) here.")
def delete_organization(data_dir: str | None, slug: str, confirm: str, export_to: str | None) -> None:
    """Delete an organization and everything it owns, audit trail included (the trail's one exception)."""
    setup_django(data_dir)
    require_services()
    from tertulia.cli.audit import delete_organization as delete

    delete(slug, confirm, export_to)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@data_dir_option
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(data_dir: str | None, args: tuple[str, ...]) -> None:
    """Run a Django management command (for operators and developers)."""
    setup_django(data_dir)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tertulia manage", *args])


def _stop_quietly(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(0)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tertulia.settings")
    if sys.argv[1:2] == ["worker"]:
        # `tertulia serve` may stop its worker at any moment of its start, even while click is still
        # reading the arguments, where click would turn Ctrl+C into "Aborted!" and exit 1. Until the
        # queue consumer installs its own handler, Ctrl+C is a quiet, normal stop.
        signal.signal(signal.SIGINT, _stop_quietly)
    cli(prog_name="tertulia")
