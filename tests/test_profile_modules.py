"""The module profile's serial part: the time that does not shrink with threads, from
two thread counts, recovers S in T(k) = S + P/k exactly (analytic cases)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.profile_modules import serial_part  # noqa: E402


@pytest.mark.parametrize(("s", "p", "k1", "k2"), [(2.0, 8.0, 1, 2), (44.0, 34.0, 1, 2),
                                                  (5.0, 12.0, 2, 4), (0.0, 10.0, 1, 8)])
def test_serial_part_recovers_the_serial_time(s, p, k1, k2):
    assert serial_part(s + p / k1, s + p / k2, k1, k2) == pytest.approx(s, abs=1e-12)


def test_a_module_that_does_not_scale_is_all_serial_and_one_count_is_all_serial():
    assert serial_part(3.0, 3.0, 1, 2) == pytest.approx(3.0)
    assert serial_part(7.0, 7.0, 2, 2) == 7.0
