"""Hostile numeric values in a robot XML are rejected at load with one line naming the element and value."""

from __future__ import annotations

import re

import pytest

from workbench.errors import WorkbenchError
from workbench.morphology.model import Morphology
from workbench.morphology.suites import builtin_robot


def _robot_xml() -> str:
    return builtin_robot("gen-train-000").to_xml()


def _replace_first(text: str, pattern: str, replacement: str) -> str:
    new, count = re.subn(pattern, replacement, text, count=1)
    assert count == 1, pattern
    return new


@pytest.mark.parametrize(
    "pattern, replacement, expected",
    [
        (r'(<body name="limb/\d+" pos=")[^"]*"', r'\g<1>nan 0 0"', "not finite"),
        (r'(<geom[^>]*fromto="[^"]*"[^>]*size=")[^"]*"', r'\g<1>inf"', "not finite"),
        (r'(<geom[^>]*fromto="[^"]*"[^>]*size=")[^"]*"', r'\g<1>-0.05"', "must be positive"),
        (r'(<joint[^>]*range=")[^"]*"', r'\g<1>60 -30"', "inverted or empty"),
        (r'(<joint[^>]*range=")[^"]*"', r'\g<1>10 10"', "inverted or empty"),
        (r'(<motor[^>]*gear=")[^"]*"', r'\g<1>-150"', "must be positive"),
        (r'(<motor[^>]*gear=")[^"]*"', r'\g<1>0"', "must be positive"),
    ],
)
def test_hostile_value_is_one_line_error(pattern: str, replacement: str, expected: str) -> None:
    text = _replace_first(_robot_xml(), pattern, replacement)
    with pytest.raises(WorkbenchError) as caught:
        Morphology.from_xml_string(text, name="hostile")
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_unchanged_robot_still_loads() -> None:
    assert Morphology.from_xml_string(_robot_xml(), name="ok").limbs
