"""The `peaceops` command line: one subcommand per pipeline stage.

Subcommands live in their own modules and are imported only when invoked, so
`peaceops --help` stays fast and a stage's heavy imports (dbt, GX, Airflow)
cost nothing to the others.
"""

from __future__ import annotations

import importlib
import logging

import click

# name -> "module:attribute" of a click.Command
COMMANDS: dict[str, str] = {
    "ingest": "ingest.commands.ingest:command",
    "compact": "ingest.commands.compact:command",
    "events": "ingest.commands.events:command",
    "status": "ingest.commands.status:command",
    "build": "ingest.commands.build:command",
    "check": "ingest.commands.check:command",
    "publish": "ingest.commands.publish:command",
    "run": "ingest.commands.run:command",
    "catalogue": "ingest.commands.catalogue:command",
    "simulate": "ingest.lab.simulate.cli:command",
    "serve-feeds": "ingest.lab.feedserver.cli:command",
    "dashboard": "ingest.commands.dashboard:command",
    "pack": "ingest.commands.pack:command",
    "replay": "ingest.commands.replay:command",
}
# The lab's commands: the hub runs without the lab (tests/unit/test_lab_optional.py), so an
# install may lack it or what it imports (pyproject's `lab` extra).
LAB = {"simulate", "serve-feeds"}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if cmd_name not in LAB:
                raise
            return _unavailable(
                cmd_name,
                f"`peaceops {cmd_name}` needs the lab ({err.name} is missing): "
                "pip install 'peaceops-data-hub[lab]'",
            )
        return getattr(module, attr)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a failure is one line naming it and the fix, exit code 1,
        and a traceback only with -v."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as err:
            if ctx.params.get("verbose"):
                raise
            from ingest.commands.explain import explain

            raise click.ClickException(explain(err)) from None


def _unavailable(name: str, why: str) -> click.Command:
    """A command that says in one line why it cannot run; a command rather than an error,
    so that `peaceops --help` still lists the others."""

    def fail() -> None:
        raise click.ClickException(why)

    # whatever options and arguments it is given, the answer is that one line
    settings = {"ignore_unknown_options": True, "allow_extra_args": True}
    return click.Command(name, callback=fail, help=why, context_settings=settings)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Show the traceback of a failure, and the hub's debug log.",
)
@click.version_option(package_name="peaceops-data-hub")
def main(verbose: bool) -> None:
    """PeaceOps Data Hub: pull agency feeds into an append-only event log,
    build the unified warehouse, check it and publish it.

    The data directory is ./data unless PEACEOPS_DATA_DIR says otherwise.
    A failure prints one line and exits 1; -v shows its traceback.
    """
    if verbose:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("ingest").setLevel(logging.DEBUG)
