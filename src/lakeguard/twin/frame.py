"""What the visitor model hands the other engines after each step: the crowd's truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CrowdFrame:
    """The crowd over one step of the twin clock, as it really was (not as sensors saw it).

    Arrays are indexed like ``area_ids`` (the scenario's areas in file order).
    """

    t_s: float  # end of the step: seconds since the twin day's local midnight
    dt_s: float  # length of the step
    area_ids: tuple[str, ...]
    occupancy: IntArray  # persons in each area at t_s, walking or dwelling
    exposure_s: FloatArray  # visitor-seconds spent in each area during the step
    gate_in: dict[str, int]  # crossings into the sensor's area during the step, by sensor id
    gate_out: dict[str, int]  # crossings out of it
    in_venue: int  # visitors inside the venue at t_s (in an area or on a path between areas)
    arrived: int  # visitors who entered the venue during the step
    departed: int  # visitors who left it during the step
    outside: int = 0  # visitors in the venue on paths outside every area at t_s
