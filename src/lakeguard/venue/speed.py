"""Walking speed in a crowd."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FREE_SPEED_MS = 1.34
JAM_DENSITY = 5.4
WEIDMANN_GAMMA = 1.913
# A jammed crowd still creeps forward; a floor keeps routes through a jam slow but finite.
CREEP_SPEED_MS = 0.05


def weidmann_speed(
    density: npt.ArrayLike, free_speed: float = FREE_SPEED_MS
) -> npt.NDArray[np.float64]:
    """Walking speed (m/s) at a crowd density (persons/m²), Weidmann's fundamental diagram.

    Weidmann, U. (1993), *Transporttechnik der Fussgänger*, ETH Zürich, Schriftenreihe IVT 90:
    ``v = v0 · (1 − exp(−γ · (1/ρ − 1/ρ_jam)))`` with γ = 1.913 p/m², ρ_jam = 5.4 p/m² and
    v0 the free speed (1.34 m/s). At ρ = 1, 2, 3 p/m² this gives 1.06, 0.61, 0.33 m/s.
    Densities at or below zero walk at the free speed; at or beyond jam density the speed is
    floored at a creep of 0.05 m/s.
    """
    rho = np.asarray(density, dtype=np.float64)
    speed = np.full(rho.shape, free_speed, dtype=np.float64)
    crowded = rho > 0
    with np.errstate(divide="ignore"):
        inv = 1.0 / rho[crowded] - 1.0 / JAM_DENSITY
    speed[crowded] = free_speed * (1.0 - np.exp(-WEIDMANN_GAMMA * inv))
    return np.maximum(speed, CREEP_SPEED_MS)
