"""The simulator's judge must be able to fail the system: it holds the system's answers against the published
calendar, read as the notice reads, and catches a system that lets someone in late or refuses someone in time,
including one that applies a wrong hold rule (the planted faults below). It never asks the system's own rule."""

from __future__ import annotations

import ast
from pathlib import Path

from bench.season_judge import Answer, Published, PublishedCalendar, audit_cell, deadline_in_force, judge

# opened at 0; registration closes at 100, extended at 50 to 140; DDO verification at 200; a week's grace 10
CALENDAR = PublishedCalendar([Published(0, 100, 200, 10), Published(50, 140, 200, 10)])


def deadline_of(reported=None, corrected=None):
    return lambda t: deadline_in_force(CALENDAR, t, reported, corrected)


def test_an_application_taken_before_the_close_published_at_that_moment_is_in_time():
    v = judge([Answer(120, 121, 201, submitted_at=120.5)], deadline_of())
    assert v.in_time and not v.let_in_late and not v.refused_in_time


def test_a_system_that_lets_someone_in_after_the_published_close_is_caught():
    """Planted: the system took an application at 150, after the extended close of 140, with no hold."""
    v = judge([Answer(150, 150.2, 201, submitted_at=150.1)], deadline_of())
    assert not v.in_time and v.let_in_late


def test_a_system_that_refuses_someone_before_the_published_close_is_caught():
    """Planted: the system answered 'registration closed' at 120, before the extended close (it kept the old one)."""
    v = judge(
        [Answer(120, 120.1, 422, "registration_closed"), Answer(125, 125.1, 201, submitted_at=125)], deadline_of()
    )
    assert v.refused_in_time == [120] and v.in_time


def test_a_held_registration_is_in_time_until_the_correction_and_the_grace_after_it():
    """Reported at 90 (before the close of 140), corrected at 170: open until 180, never past 200."""
    held = deadline_of(reported=90, corrected=170)
    assert judge([Answer(178, 178.2, 201, submitted_at=178)], held).in_time
    late = judge([Answer(185, 185.2, 201, submitted_at=185)], held)
    assert late.let_in_late and not late.in_time
    never_corrected = deadline_of(reported=90)
    assert judge([Answer(199, 199.2, 201, submitted_at=199)], never_corrected).in_time
    assert judge([Answer(205, 205.2, 201, submitted_at=205)], never_corrected).let_in_late


def test_a_wrong_hold_rule_in_the_system_is_caught():
    """Planted: the system holds registration open for someone who reported after the close (at 150), and takes
    their application at 160. The judge, reading the notice, says they were let in late."""
    v = judge([Answer(160, 160.1, 201, submitted_at=160)], deadline_of(reported=150, corrected=155))
    assert v.let_in_late
    # and the other way: a system that ignores a hold refuses, at 170, someone who reported in time

    refused = judge([Answer(170, 170.1, 422, "registration_closed")], deadline_of(reported=90, corrected=165))
    assert refused.refused_in_time == [170] and not refused.in_time


def test_the_judge_never_calls_the_rule_the_system_enforces():
    tree = ast.parse(Path("bench/season_judge.py").read_text())
    called = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert "registration_close_for" not in called and "contract" not in imported
    assert not any(isinstance(n, ast.ImportFrom) and n.module == "contract" for n in ast.walk(tree))


def test_audit_figures_count_against_the_simulators_own_record():
    failed, came = {"A", "B", "C", "D"}, {"A", "B", "C", "D", "E", "F"}
    cell = audit_cell(0.5, 0.05, failed, came, flagged={"A", "B", "C", "E", "X"})  # X never came
    assert (cell.caught, cell.failed, cell.flagged) == (3, 4, 4)
    assert cell.recall == 0.75 and cell.precision == 0.75
