"""Carana's geography: admin areas on a regular grid and named places.

The gazetteer is fixed (it does not depend on the scenario seed) because the
warehouse ships it as dbt seeds: every simulated run must agree with them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# Bounding box of Carana: an 8 x 4 grid of admin2 rectangles (0.5 deg x 1 deg).
LON0, LAT0 = 20.0, 6.0
DX, DY = 0.5, 1.0
NX, NY = 8, 4
PLACES_PER_ADMIN2 = 7
# Fixed: the gazetteer is the same whatever the scenario seed.
GAZETTEER_SEED = 20261001
# Places keep this far (degrees) from admin2 edges so jittered reports stay inside.
MARGIN = 0.04

ADMIN1_NAMES = [
    "Kalari",
    "Bessiko",
    "Moyen-Sanga",
    "Tarabé",
    "Haut-Loma",
    "Zendi",
    "Mbori",
    "Côte-Ouest",
]

ADMIN2_NAMES = [
    "Alpha Kalari", "Dolomo", "Sékou", "Ndara",
    "Bessiko Centre", "Mayoumba", "Tolé", "Gorongo",
    "Sanga-Mbélé", "Kouma", "Boyali", "Lintou",
    "Tarabé Nord", "Zimbala", "Ouessa", "Kabinda",
    "Loma", "Fédé", "Bangassi", "Morou",
    "Zendi Sud", "Kindia", "Nola", "Pétéla",
    "Mbori-Ville", "Gbado", "Koyo", "Sibut",
    "Port-Léon", "Baïbokoum", "Sangui", "Yalinga",
]  # fmt: skip

_ONSETS = ["b", "d", "g", "k", "m", "n", "mb", "nd", "ng", "s", "t", "z", "l", "y", "w", "f", "r"]
# Plain vowels dominate; accents appear in about one name in three, as in real gazetteers.
_VOWELS = ["a"] * 6 + ["e", "i", "o"] * 3 + ["ou", "ou", "u", "é", "é", "è", "ô"]
_FRENCH = ["Saint-{}", "Sainte-{}", "Mont-{}", "Pont-de-{}", "Fort-{}", "{}-le-Haut", "Bel-{}"]


@dataclass(frozen=True)
class Gazetteer:
    admin1: pd.DataFrame
    admin2: pd.DataFrame
    places: pd.DataFrame

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in (
            ("admin1.csv", self.admin1),
            ("admin2.csv", self.admin2),
            ("places.csv", self.places),
        ):
            frame.to_csv(folder / name, index=False, lineterminator="\n")


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _norm(text: str) -> str:
    return strip_accents(text).lower().replace("-", " ")


def _pcode(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """Admin2 p-code of grid cell (ix, iy): admin1 = 2 x 2 block of cells."""
    a1 = (iy // 2) * (NX // 2) + ix // 2 + 1
    a2 = (iy % 2) * 2 + ix % 2 + 1
    return np.char.add(
        np.char.add("CR", np.char.zfill(a1.astype(str), 2)), np.char.zfill(a2.astype(str), 2)
    )


def locate(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Admin2 p-code for each point (None outside Carana), vectorised over the grid."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    ix = np.floor((lon - LON0) / DX).astype(int)
    iy = np.floor((lat - LAT0) / DY).astype(int)
    inside = (ix >= 0) & (ix < NX) & (iy >= 0) & (iy < NY)
    codes = _pcode(np.clip(ix, 0, NX - 1), np.clip(iy, 0, NY - 1)).astype(object)
    codes[~inside] = None
    return codes


def _variants(name: str) -> list[str]:
    """Spelling variants an agency might use for a place name."""
    plain = strip_accents(name)
    out = [plain, plain.replace("ou", "u"), plain.replace("-", " "), name.replace("k", "c")]
    out = [v for v in dict.fromkeys(out) if v != name]
    if not out:
        # No accent, hyphen or 'ou' to drop: a doubled consonant is the usual misspelling.
        for i in range(len(name) - 1, 0, -1):
            if name[i] in "bdgkmnlstz":
                out = [name[: i + 1] + name[i] + name[i + 1 :]]
                break
    return out


def _place_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    taken: set[str] = {_norm(a) for a in ADMIN1_NAMES + ADMIN2_NAMES}
    names: list[tuple[str, str]] = []
    while len(names) < n:
        syllables = int(rng.integers(2, 4))
        root = "".join(
            _ONSETS[rng.integers(len(_ONSETS))] + _VOWELS[rng.integers(len(_VOWELS))]
            for _ in range(syllables)
        ).capitalize()
        if rng.random() < 0.25:
            root = _FRENCH[rng.integers(len(_FRENCH))].format(root)
        variants = _variants(root)
        keys = {_norm(root)} | {_norm(v) for v in variants}
        if keys & taken or len(root) < 4:
            continue
        taken |= keys
        names.append((root, "|".join(variants)))
    return names


def build_gazetteer() -> Gazetteer:
    """The fixed gazetteer of Carana."""
    rng = np.random.default_rng(GAZETTEER_SEED)
    iy, ix = np.divmod(np.arange(NX * NY), NX)
    codes = _pcode(ix, iy)
    x0, y0 = LON0 + ix * DX, LAT0 + iy * DY
    wkt = [
        f"POLYGON (({a:g} {b:g}, {a + DX:g} {b:g}, {a + DX:g} {b + DY:g}, {a:g} {b + DY:g}, {a:g} {b:g}))"
        for a, b in zip(x0, y0, strict=True)
    ]
    order = np.argsort(codes, kind="stable")
    admin2 = pd.DataFrame(
        {
            "admin2_pcode": codes[order],
            "admin2_name": np.array(ADMIN2_NAMES, dtype=object),
            "admin1_pcode": codes[order].astype("U4"),
            "wkt": np.array(wkt, dtype=object)[order],
            "_x0": x0[order],
            "_y0": y0[order],
        }
    )
    admin1 = pd.DataFrame(
        {"admin1_pcode": [f"CR{i:02d}" for i in range(1, 9)], "admin1_name": ADMIN1_NAMES}
    )
    n = len(admin2) * PLACES_PER_ADMIN2
    named = _place_names(rng, n)
    cell = np.repeat(np.arange(len(admin2)), PLACES_PER_ADMIN2)
    lon = admin2["_x0"].to_numpy()[cell] + rng.uniform(MARGIN, DX - MARGIN, n)
    lat = admin2["_y0"].to_numpy()[cell] + rng.uniform(MARGIN, DY - MARGIN, n)
    places = pd.DataFrame(
        {
            "place_id": [f"P{i:03d}" for i in range(1, n + 1)],
            "place_name": [p[0] for p in named],
            "alt_names": [p[1] for p in named],
            "latitude": np.round(lat, 5),
            "longitude": np.round(lon, 5),
            "admin2_pcode": admin2["admin2_pcode"].to_numpy()[cell],
        }
    )
    return Gazetteer(admin1, admin2.drop(columns=["_x0", "_y0"]), places)
