"""The ``spindle`` command: one group, subcommands registered from each part of the package.

User mistakes (bad options, bad seeds, unreadable files) end with one line on stderr and exit
code 2; Ctrl-C ends with 130. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from spindle import __version__

# Each subcommand by name: the module that defines it and its name there. A subcommand's module
# is imported only when it runs (or when `spindle --help` lists them all), so that
# `spindle crawl --help` does not load the lab, the report or the Redis client.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "crawl": ("spindle.crawl.cli", "crawl"),
    "report": ("spindle.crawl.report.cli", "report"),
    "fetch": ("spindle.crawl.fetch", "fetch"),
    "frontier": ("spindle.crawl.shared.cli", "frontier"),
    "serve-sample": ("spindle.sample_site.cli", "serve_sample"),
    "demo": ("spindle.crawl.cli", "demo"),
    "lab": ("spindle.lab.cli", "lab"),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module when the subcommand is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return None
        module, name = SUBCOMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), name)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module}.{name} is not a click command")
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="spindle")
def cli() -> None:
    """Spindle: concurrency primitives, a polite resumable crawler, and a concurrency lab."""


def main(argv: list[str] | None = None) -> None:
    """Run the command line and exit with its status (0, 2 for usage errors, 130 for Ctrl-C)."""
    try:
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
