"""The ``spindle`` command: one group, subcommands registered from each part of the package.

User mistakes (bad options, bad seeds, unreadable files) end with one line on stderr and exit
code 2; Ctrl-C ends with 130. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import click

from spindle import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="spindle")
def cli() -> None:
    """Spindle: concurrency primitives, a polite resumable crawler, and a concurrency lab."""


def _register() -> None:
    # Imported here so that `spindle --version` stays cheap to reach.
    from spindle.crawl.cli import crawl, demo
    from spindle.crawl.fetch import fetch
    from spindle.crawl.report.cli import report
    from spindle.crawl.shared.cli import frontier
    from spindle.lab.cli import lab
    from spindle.sample_site.cli import serve_sample

    for command in (crawl, report, fetch, frontier, serve_sample, demo, lab):
        cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Run the command line and exit with its status (0, 2 for usage errors, 130 for Ctrl-C)."""
    try:
        _register()
        result = cli.main(args=argv, prog_name="spindle", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        sys.exit(2)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "spindle"
        click.echo(f"{where}: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"spindle: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)
