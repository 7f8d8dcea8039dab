"""Long texts in local mode: one line, the suggested text kept with `.`, or several lines."""

from __future__ import annotations

from tests.conftest import RunHoedan

COACH = {"HOEDAN_ADMINS": "Carla"}


def test_a_suggested_text_is_shown_and_kept_with_a_dot(run_hoedan: RunHoedan) -> None:
    run = run_hoedan(
        ["/hoedan spelregels instellen basis", ".", ""], "console", "--als", "Carla", env=COACH
    )

    assert run.returncode == 0, run.stderr
    assert "Voorgestelde tekst (typ . om die te houden):" in run.stdout
    shown, proposal = run.stdout.split("Voorstel: nieuwe spelregels", 1)
    assert "    1. We besluiten met consent" in shown
    assert "1. We besluiten met consent" in proposal
    assert "7. " in proposal


def test_several_lines_after_double_angle_brackets(run_hoedan: RunHoedan) -> None:
    run = run_hoedan(
        [
            "/hoedan spelregels instellen",
            "<<",
            "We beginnen op tijd.",
            "We besluiten met consent.",
            "Wat hier gezegd wordt, blijft hier.",
            ".",
            "2",
        ],
        "console",
        "--als",
        "Carla",
        env=COACH,
    )

    assert run.returncode == 0, run.stderr
    assert "Meer regels? Typ <<" in run.stdout
    proposal = run.stdout.split("Voorstel: nieuwe spelregels", 1)[1]
    for rule in (
        "1. We beginnen op tijd.",
        "2. We besluiten met consent.",
        "3. Wat hier gezegd wordt, blijft hier.",
    ):
        assert rule in proposal
    assert "4. " not in proposal
