"""Every `peaceops` command has a helpful --help."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ingest.cli import COMMANDS, main


def test_top_level_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_help(name: str):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    # A real description, not just the option list.
    description = result.output.split("Options:")[0].split("\n", 2)[-1].strip()
    assert len(description) > 40, f"{name} --help says too little: {description!r}"
