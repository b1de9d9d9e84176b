"""[intake] and [incidents] in rollout.toml: defaults, and one clear line for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RunCli
from helpers import config_from, write_config

from rollout.config import DEFAULT_SELF_SERVICE, Config
from rollout.durations import Duration
from rollout.errors import ConfigError

BAD = [
    (
        '[intake]\nneeds_info_labl = "x"\n',
        'intake.needs_info_labl: unknown key; did you mean "needs_info_label"?',
    ),
    (
        '[intake]\nneeds_info_label = "a,b"\n',
        "intake.needs_info_label: must be a label name, without commas",
    ),
    (
        '[intake]\nclose_self_service = "yes"\n',
        "intake.close_self_service: must be true or false, not a string 'yes'",
    ),
    (
        '[intake.sections]\nBugs = ["Summary"]\n',
        'intake.sections.Bugs: not a request type; did you mean "Bug"? (use Bug, Feature, Administrative, Incident)',
    ),
    ('[intake.sections]\nbug = "Summary"\n', "intake.sections.bug: must be an array of headings"),
    (
        '[intake.sections]\nbug = ["Summary", ""]\n',
        "intake.sections.bug: must hold non-empty strings",
    ),
    (
        '[[intake.self_service]]\nname = "Macros"\npatterns = ["macro(s"]\ninstructions = "https://example.com/macros"\n',
        'intake.self_service[1].patterns[1]: rule "Macros": not a regular expression (missing ) at position 7)',
    ),
    (
        '[[intake.self_service]]\nname = "Macros"\npatterns = ["ok", 3]\ninstructions = "https://example.com/macros"\n',
        'intake.self_service[1].patterns[2]: rule "Macros": must be a non-empty string',
    ),
    (
        '[[intake.self_service]]\nname = "Macros"\npatterns = []\ninstructions = "https://example.com/m"\n',
        'intake.self_service[1].patterns: rule "Macros": needs at least one regular expression',
    ),
    (
        '[[intake.self_service]]\nname = "Macros"\npatterns = ["m"]\ninstructions = "see the handbook"\n',
        'intake.self_service[1].instructions: rule "Macros": must be the http(s) URL of the instructions',
    ),
    (
        '[[intake.self_service]]\npatterns = ["m"]\ninstructions = "https://example.com/m"\n',
        'intake.self_service[1].name: is required, e.g. name = "Zendesk managed content"',
    ),
    (
        '[[intake.self_service]]\nname = "M"\npattern = ["m"]\ninstructions = "https://example.com/m"\n',
        'intake.self_service[1].pattern: unknown key; did you mean "patterns"?',
    ),
    (
        '[incidents]\npagerduty = "Ops"\n',
        'incidents.pagerduty: unknown key; did you mean "pagerduty_service"?',
    ),
    (
        '[incidents.tiers]\n"Mission Critical" = "ten minutes"\n',
        'incidents.tiers.Mission Critical: cannot read duration "ten minutes"',
    ),
    (
        '[incidents.tiers]\n"Mission Critical" = "2 business days"\n',
        "incidents.tiers.Mission Critical: must be minutes, hours, days or weeks (not business days)",
    ),
    (
        '[incidents.systems]\nZendesk = "Mision Critical"\n',
        'incidents.systems.Zendesk: "Mision Critical" is not a tier; did you mean "Mission Critical"?',
    ),
    (
        "[incidents.systems]\nZendesk = 1\n",
        "incidents.systems.Zendesk: must be a string, not an integer 1",
    ),
    ('[incidents]\npagerduty_service = ""\n', "incidents.pagerduty_service: must not be empty"),
    (  # looked up in any case: which one counted would depend on the order of the file
        '[incidents.systems]\n"dup" = "Administrative"\n"DUP" = "Mission Critical"\n',
        'incidents.systems.DUP: names the same system as "dup" (case does not count)',
    ),
    (
        '[incidents.tiers]\n"Fast" = "5 minutes"\n"FAST" = "5 hours"\n',
        'incidents.tiers.FAST: names the same tier as "Fast" (case does not count)',
    ),
    (
        '[incidents.systems]\n"Zendesk\\u202eGlobal" = "Administrative"\n',
        "incidents.systems.Zendesk\u202eGlobal: a system name must be visible text on one line",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_mistakes_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from(text)
    assert str(raised.value).startswith(f"rollout.toml: {message}")


def test_a_bad_pattern_is_one_line_and_exit_2(run: RunCli, workdir: Path) -> None:
    write_config(
        workdir,
        '[[intake.self_service]]\nname = "Macros"\npatterns = ["[a-"]\ninstructions = "https://example.com/m"\n',
    )
    result = run("schedule")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        'Error: rollout.toml: intake.self_service[1].patterns[1]: rule "Macros": not a regular expression'
    )
    assert result.stderr.count("\n") == 1


def test_defaults() -> None:
    config = Config()
    assert config.intake.needs_info_label == "Triage::Needs Info"
    assert config.intake.close_self_service is False
    assert config.intake.sections == {
        "bug": ("Steps to reproduce", "Expected behavior", "Actual behavior"),
        "feature": ("What", "Why"),
        "administrative": ("What",),
        "incident": (),
    }
    assert [rule.name for rule in config.intake.self_service] == [
        "Zendesk managed content",
        "Support Team YAML files",
    ]
    assert config.incidents.pagerduty_service == "Customer Support Operations"
    assert config.incidents.tiers == {
        "Mission Critical": Duration(10, "minutes"),
        "Business Critical": Duration(30, "minutes"),
        "Business Operational": Duration(8, "hours"),
        "Administrative": Duration(24, "hours"),
    }
    assert config.incidents.systems == {}
    assert config.labels.priority == "Priority::" and config.labels.system == "System::"


def test_every_intake_and_incident_key() -> None:
    config = config_from("""
        [labels]
        system = "Sys::"

        [intake]
        needs_info_label = "needs-info"
        close_self_service = true

        [intake.sections]
        Bug = ["Summary", "Steps to reproduce"]
        feature = ["What"]

        [[intake.self_service]]
        name = "Calendly"
        patterns = ['\\bcalendly\\b', 'team event']
        instructions = "https://handbook.example.com/calendly"

        [incidents]
        pagerduty_service = "Support Systems"
        channel = "#ops-help"

        [incidents.tiers]
        "mission critical" = "5 minutes"
        Experimental = "2 days"

        [incidents.systems]
        "Zendesk Global" = "Mission Critical"
        "Staging sandbox" = "experimental"
    """)
    intake = config.intake
    assert (intake.needs_info_label, intake.close_self_service) == ("needs-info", True)
    assert intake.sections["bug"] == ("Summary", "Steps to reproduce")
    assert intake.sections["administrative"] == ("What",)  # the default stays
    [rule] = intake.self_service
    assert rule.search("Add me to the CALENDLY team event") is not None
    incidents = config.incidents
    assert incidents.tiers["mission critical"] == Duration(5, "minutes")
    assert "Mission Critical" not in incidents.tiers  # replaced, whatever its case
    assert incidents.systems == {
        "Zendesk Global": "mission critical",
        "Staging sandbox": "Experimental",
    }
    assert (incidents.pagerduty_service, incidents.channel) == ("Support Systems", "#ops-help")
    assert config.labels.system == "Sys::"


def test_an_empty_rule_list_turns_self_service_off() -> None:
    assert config_from("[intake]\nself_service = []\n").intake.self_service == ()
    assert config_from("[intake]\n").intake.self_service == DEFAULT_SELF_SERVICE
