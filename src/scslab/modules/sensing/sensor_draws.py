"""Random slots and draws shared by the sensors of the surveillance module and the landlord's
camera: keyed by (day, sensor, act) and the person, never by row (common random numbers)."""

from __future__ import annotations

import numpy as np

from scslab.numerics.rng import SlotLayout

SENSOR_LAYOUT = SlotLayout((("sensor", 8), ("act", 8)))
REGION_LAYOUT = SlotLayout((("sensor", 8), ("region", 8)))
SETUP_LAYOUT = SlotLayout((("purpose", 8), ("sensor", 8)))


def sensor_slots(sensor: int, codes: np.ndarray) -> np.ndarray:
    """``SENSOR_LAYOUT.pack(sensor=, act=)`` for an array of act codes."""
    return (np.int64(sensor) << 8) | codes.astype(np.int64)


def setup_slot(purpose: int, sensor: int) -> int:
    """``SETUP_LAYOUT.pack(purpose=, sensor=)``: a slot of the setup stream."""
    return SETUP_LAYOUT.pack(purpose=purpose, sensor=sensor)


def sensor_uniforms(world, stream: str, day: int, sensor: int, codes: np.ndarray,
                    uids: np.ndarray) -> np.ndarray:
    """One uniform per row, keyed by (day, sensor, act) and the person — never by row."""
    return world.stream(stream).uniform(day, sensor_slots(sensor, codes), uids)


def sensor_words(world, stream: str, day: int, sensor: int, codes: np.ndarray,
                 uids: np.ndarray) -> np.ndarray:
    """One 32-bit word per row, keyed as :func:`sensor_uniforms`."""
    return world.stream(stream).words(day, sensor_slots(sensor, codes), uids)[:, 0]
