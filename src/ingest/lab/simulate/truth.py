"""What really happened in Carana: incidents, aid deliveries and patrols.

Generated once per scenario; every agency feed reports a subset of it with its
own errors, so the warehouse can be scored against this ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.lab.simulate.gazetteer import Gazetteer, locate

INCIDENT_TYPES = np.array(
    ["ARMED_CLASH", "IED", "ATTACK_CIV", "ABDUCTION", "PROTEST", "RIOT", "LOOTING"]
)
INCIDENT_WEIGHTS = np.array([0.22, 0.08, 0.2, 0.08, 0.18, 0.1, 0.14])
# Mean fatalities per incident type (Poisson), same order as INCIDENT_TYPES.
FATALITY_MEAN = np.array([3.0, 2.0, 1.5, 0.2, 0.05, 0.6, 0.1])

ORGANISATIONS = np.array(["FAP", "UNICEF", "WHO", "MSF", "IRC", "NRC", "Caritas Carana", "Oxfam"])
ORG_WEIGHTS = np.array([0.3, 0.14, 0.08, 0.1, 0.1, 0.1, 0.09, 0.09])
SECTORS = np.array(
    ["Food Security", "Health", "Nutrition", "WASH", "Shelter and NFI", "Protection",
     "Education", "Logistics"]
)  # fmt: skip
# Unit and typical quantity per sector, same order as SECTORS.
SECTOR_UNIT = np.array(["kg", "kits", "kg", "litres", "kits", "households", "kits", "mt"])
SECTOR_QTY = np.array([2000.0, 40.0, 300.0, 20000.0, 60.0, 30.0, 50.0, 5.0])

# Daily rates at scale 1.
INCIDENTS_PER_DAY = 20
DELIVERIES_PER_DAY = 18
PATROLS_PER_DAY = {"forcar": 14, "ncbatt": 10}

FORCAR_UNITS = np.array(["TIGRE", "LYNX", "FAUCON", "AIGLE", "COBRA", "PUMA", "VIPÈRE", "JAGUAR"])
FORCAR_TYPES = np.array(["reconnaissance", "escorte", "domination", "liaison", "présence"])
NCBATT_UNITS = np.array(["A Coy", "B Coy", "C Coy", "Recce Pl", "Sp Coy"])
NCBATT_TASKS = np.array(["recce", "escort", "area domination", "liaison", "presence"])


@dataclass(frozen=True)
class Truth:
    incidents: pd.DataFrame
    deliveries: pd.DataFrame
    patrols: pd.DataFrame

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("incidents", "deliveries", "patrols"):
            frame = getattr(self, name).copy()
            for col in frame.columns:
                if col.endswith("_at"):
                    frame[col] = pd.to_datetime(frame[col]).dt.tz_localize("UTC")
            frame.to_parquet(folder / f"{name}.parquet", index=False)


def count(rng: np.random.Generator, per_day: float, days: int, scale: float) -> int:
    return int(rng.poisson(per_day * days * scale))


def random_times(
    rng: np.random.Generator, start: np.datetime64, days: int, n: int, hours: tuple[int, int]
) -> np.ndarray:
    """UTC times (datetime64[s], whole minutes) spread over the period, within daytime `hours`."""
    day = rng.integers(0, days, n)
    minute = rng.integers(hours[0] * 60, hours[1] * 60, n)
    return start + (day * 86400 + minute * 60).astype("timedelta64[s]")


def _near_places(
    rng: np.random.Generator, gaz: Gazetteer, n: int, km: float, hot: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pick places (weighted by `hot`) and points scattered ~`km` around them."""
    places = gaz.places
    p = None if hot is None else hot / hot.sum()
    idx = rng.choice(len(places), n, p=p)
    # ~111 km per degree; the places keep a margin from admin2 edges, so clipping the
    # scatter keeps each point in its place's admin2.
    d = np.clip(rng.normal(0, km / 111.0, (n, 2)), -0.035, 0.035)
    lat = places["latitude"].to_numpy()[idx] + d[:, 0]
    lon = places["longitude"].to_numpy()[idx] + d[:, 1]
    return idx, np.round(lat, 5), np.round(lon, 5)


def generate(
    rng: np.random.Generator, gaz: Gazetteer, start: np.datetime64, days: int, scale: float
) -> Truth:
    """The scenario's ground truth."""
    places = gaz.places
    # Violence clusters: a few hot districts carry most incidents.
    hot = rng.gamma(0.6, 1.0, len(places))
    n = count(rng, INCIDENTS_PER_DAY, days, scale)
    idx, lat, lon = _near_places(rng, gaz, n, 0.8, hot)
    kind = rng.choice(len(INCIDENT_TYPES), n, p=INCIDENT_WEIGHTS)
    occurred = np.sort(random_times(rng, start, days, n, (0, 24)))
    incidents = pd.DataFrame(
        {
            "incident_id": [f"INC-{i:07d}" for i in range(1, n + 1)],
            "incident_type": INCIDENT_TYPES[kind],
            "occurred_at": occurred,
            "latitude": lat,
            "longitude": lon,
            "admin2_pcode": locate(lat, lon),
            "place_id": places["place_id"].to_numpy()[idx],
            "fatalities": rng.poisson(FATALITY_MEAN[kind]),
        }
    )

    n = count(rng, DELIVERIES_PER_DAY, days, scale)
    idx, _, _ = _near_places(rng, gaz, n, 0.0)
    org = rng.choice(len(ORGANISATIONS), n, p=ORG_WEIGHTS)
    sector = np.where(org == 0, 0, rng.integers(0, len(SECTORS), n))
    qty = np.round(rng.gamma(2.0, SECTOR_QTY[sector] / 2.0), 0) + 1
    deliveries = pd.DataFrame(
        {
            "delivery_id": [f"DEL-{i:07d}" for i in range(1, n + 1)],
            "organisation": ORGANISATIONS[org],
            "sector": SECTORS[sector],
            "admin2_pcode": places["admin2_pcode"].to_numpy()[idx],
            "place_id": places["place_id"].to_numpy()[idx],
            "delivered_at": np.sort(random_times(rng, start, days, n, (6, 16))),
            "quantity": qty,
            "unit": SECTOR_UNIT[sector],
            "beneficiaries": rng.integers(20, 2500, n),
        }
    )

    frames = []
    for force, per_day in PATROLS_PER_DAY.items():
        n = count(rng, per_day, days, scale)
        # NCBATT holds the north of the country, FORCAR the south.
        north = places["latitude"].to_numpy() >= 8.0
        weight = (north if force == "ncbatt" else ~north).astype(float) + 0.02
        idx, lat, lon = _near_places(rng, gaz, n, 2.0, weight)
        started = random_times(rng, start, days, n, (4, 20))
        if force == "forcar":
            unit = np.char.add(np.char.add(FORCAR_UNITS[rng.integers(0, 8, n)], " "),
                               rng.integers(10, 40, n).astype(str))  # fmt: skip
            ptype = FORCAR_TYPES[rng.integers(0, 5, n)]
        else:
            unit = np.char.add(NCBATT_UNITS[rng.integers(0, 5, n)], "")
            ptype = NCBATT_TASKS[rng.integers(0, 5, n)]
        frames.append(
            pd.DataFrame(
                {
                    "force": force,
                    "unit": unit,
                    "patrol_type": ptype,
                    "started_at": started,
                    "ended_at": started
                    + (rng.integers(2 * 60, 10 * 60, n) * 60).astype("timedelta64[s]"),
                    "latitude": lat,
                    "longitude": lon,
                    "admin2_pcode": locate(lat, lon),
                }
            )
        )
    patrols = pd.concat(frames, ignore_index=True).sort_values("started_at", kind="stable")
    patrols.insert(0, "patrol_id", [f"PAT-{i:07d}" for i in range(1, len(patrols) + 1)])
    return Truth(incidents, deliveries, patrols.reset_index(drop=True))
