"""Every command and every option of `rm-pipelines` explains itself in --help."""

from __future__ import annotations

import argparse

from rm_pipelines.cli import build_parser


def _walk(parser: argparse.ArgumentParser, path: list[str]):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield path + [name], None, helps.get(name)
                yield from _walk(sub, path + [name])
        elif not isinstance(action, argparse._HelpAction):
            yield path, action.option_strings or [action.dest], action.help


def test_every_command_and_option_has_help_text():
    missing = [" ".join(path) + (f" {' '.join(opts)}" if opts else "")
               for path, opts, text in _walk(build_parser(), ["rm-pipelines"]) if not text]
    assert missing == []
