"""Every installed pack is complete and consistent, and a malformed pack.yaml is refused."""

from __future__ import annotations

import click
import pytest

from auditkit.errors import AuditkitError
from auditkit.metrics import get_metric
from auditkit.packs import PackPlugin, plugins
from auditkit.packs._definition import parse_pack


@pytest.mark.parametrize("name", ["four-fifths", "nyc-ll144"])
def test_a_shipped_pack_is_complete(name):
    plugin = plugins()[name]
    assert isinstance(plugin, PackPlugin) and plugin.package == f"auditkit.packs.{name.replace('-', '_')}"
    definition = plugin.definition
    sections = plugin.report_sections()
    assert definition.sections == ("framing", *(s.id for s in sections)), "pack.yaml lists the plugin's sections"
    for section in sections:
        folder, _, file = section.template.rpartition("/")
        assert folder == f"packs/{name}" and (plugin.templates_folder / file).is_file(), section.template
    for metric in plugin.metrics():
        assert get_metric(metric.name) == metric and metric.pack == name and metric.family == "pack"
    assert {rule["metric"] for rule in definition.rules} <= {m.name for m in plugin.metrics()}
    schema = plugin.results_schema()
    assert plugin.results_key is not None and "null" in schema["type"]
    assert plugin.documents({}, None) == {}  # nothing to write without the pack's evidence
    command = plugin.command()
    assert command is None or isinstance(command, click.Command)


def test_the_packs_keep_their_results_keys_and_documents():
    installed = plugins()
    assert (installed["four-fifths"].results_key, installed["nyc-ll144"].results_key) == ("adverse_impact", "ll144")
    assert installed["nyc-ll144"].document_names == {"ll144.html", "ll144.csv"}
    assert installed["nyc-ll144"].command().name == "ll144"
    assert installed["four-fifths"].columns({"include_intersections": True}) == {}
    assert installed["nyc-ll144"].columns({"sex": "gender", "race_ethnicity": "race", "mode": "scoring"}) == \
        {"sex": "gender", "race_ethnicity": "race"}


GOOD = """\
name: tidy
title: A pack
description: What it does.
framing: What it does not establish.
"""


@pytest.mark.parametrize(("text", "words"), [
    ("name: Tidy Pack\ntitle: t\ndescription: d\nframing: f\n", "lower-case words"),
    (GOOD + "colour: blue\n", "unknown key(s) colour"),
    (GOOD.replace("title: A pack\n", ""), "'title' must be non-empty text"),
    (GOOD + "settings: {x: {type: colour}}\n", "setting 'x' needs a type"),
    (GOOD + "rules: [{metric: accuracy}]\n", "rules with ids"),
    (GOOD + "report: {sections: [framing, framing]}\n", "each section named once"),
    (GOOD + "report: {pages: [framing]}\n", "'report' must be"),
])
def test_a_malformed_pack_file_names_what_is_wrong(tmp_path, text, words):
    path = tmp_path / "pack.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AuditkitError) as info:
        parse_pack(path, source="auditkit/packs/tidy/pack.yaml", hint="reinstall auditkit")
    message = info.value.message
    assert message.startswith("auditkit/packs/tidy/pack.yaml: ") and words in message, message
    assert message.endswith("the pack file is malformed, reinstall auditkit.")


def test_a_pack_file_without_report_defaults_to_its_framing(tmp_path):
    path = tmp_path / "pack.yaml"
    path.write_text(GOOD, encoding="utf-8")
    pack = parse_pack(path, source="tidy/pack.yaml", hint="x")
    assert (pack.name, pack.sections, pack.rules, dict(pack.settings)) == ("tidy", ("framing",), (), {})
