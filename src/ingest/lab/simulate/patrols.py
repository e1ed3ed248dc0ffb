"""The two patrol feeds: FORCAR (French CSV, `;`, some files with a BOM) and NCBATT
(JSON lines, English). Both give times as military DTGs and places as MGRS grids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.lab.simulate import mess
from ingest.lab.simulate.formats import (
    EN_MONTHS,
    FR_MONTHS,
    Scenario,
    dtg,
    json_lines,
    public,
    to_mgrs,
)
from ingest.lab.simulate.gazetteer import Gazetteer
from ingest.lab.simulate.incidents import KM, FeedOutput, _obj
from ingest.lab.simulate.truth import Truth

FORCAR_OBS = np.array(
    ["RAS.", "Population calme, accueil favorable.", "Axe praticable, pont endommagé.",
     "Contact avec le chef de village.", "Présence d'hommes armés signalée au nord.",
     "Check-point illégal démantelé."]
)  # fmt: skip
NCBATT_REMARKS = np.array(
    ["Nothing significant to report.", "Road passable, bridge damaged.",
     "Met village chief, population calm.", "Armed men reported to the north.",
     "Vehicle breakdown, recovered.", "Illegal checkpoint removed."]
)  # fmt: skip
BAD_DTG = "XXXXXXZ???26"


def _patrols(truth: Truth, force: str, rng: np.random.Generator) -> pd.DataFrame:
    p = truth.patrols
    chosen = p.loc[(p["force"] == force).to_numpy() & (rng.random(len(p)) < 0.97)]
    chosen = chosen.reset_index(drop=True)
    n = len(chosen)
    # The logged grid is the patrol area, ~500 m off the true centre.
    chosen["_lat"] = chosen["latitude"] + rng.normal(0, 0.5 * KM, n)
    chosen["_lon"] = chosen["longitude"] + rng.normal(0, 0.5 * KM, n)
    return chosen


def forcar(truth: Truth, gaz: Gazetteer, rng: np.random.Generator, sc: Scenario) -> FeedOutput:
    """FORCAR patrol logs: one `;` CSV a day, French months in DTGs, some with a BOM."""
    s = _patrols(truth, "forcar", rng)
    n = len(s)
    base = pd.DataFrame(
        {
            "id_patrouille": None,
            "unite": _obj(s["unit"]),
            "type_patrouille": _obj(s["patrol_type"]),
            "gdh_depart": None,
            "gdh_retour": None,
            "mgrs": _obj(to_mgrs(s["_lat"].to_numpy(), s["_lon"].to_numpy())),
            "effectif": _obj(rng.integers(8, 41, n)),
            "observations": mess.pick(rng, FORCAR_OBS, n),
            "statut": "effectuée",
            "remplace": "",
            "_occ": s["started_at"].to_numpy(),
            "_end": s["ended_at"].to_numpy(),
            "_zone": np.where(rng.random(n) < 0.15, "C", "Z"),
            "_truth": s["patrol_id"].to_numpy(),
        }
    )

    def correct(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["effectif"] = _obj(
            pd.to_numeric(df["effectif"], errors="coerce").fillna(10).astype(int) + 2
        )
        df["_end"] = df["_end"].to_numpy() + mess.seconds(np.full(len(df), 1800))
        df["observations"] = "Rectificatif: " + df["observations"]
        return df

    def retract(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["statut"] = "annulée"
        df["observations"] = "Patrouille annulée, saisie erronée."
        return df

    def malform(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        how = rng.integers(0, 3, len(df))
        df.loc[how == 0, "mgrs"] = ""
        df.loc[how == 1, "mgrs"] = "34NZZ"
        df.loc[how == 2, "effectif"] = "NC"
        return df

    df = mess.publish(
        base, rng, start=sc.start, days=sc.days, period_days=1, delay_hours=10,
        correct=correct, retract=retract, malform=malform,
    )  # fmt: skip
    fmt = "FCR-P-{:06d}".format
    df["id_patrouille"] = _obj(df["_seq"].map(fmt))
    df["remplace"] = _obj(np.where(df["_target"] > 0, df["_target"].map(fmt), ""))
    zone = df["_zone"].to_numpy()
    df["gdh_depart"] = _obj(dtg(df["_occ"].to_numpy(), zone, FR_MONTHS))
    df["gdh_retour"] = _obj(dtg(df["_end"].to_numpy(), zone, FR_MONTHS))
    q = np.flatnonzero(df["_quarantine"])
    df.loc[q[0::2], "gdh_depart"] = BAD_DTG
    df.loc[q[1::2], "id_patrouille"] = ""
    df = mess.add_duplicates(df, rng, start=sc.start, days=sc.days, period_days=1)
    folder = sc.inbox("forcar.patrols")
    files = 0
    for index, part in df.groupby("_file", sort=True):
        # Some of the force's workstations save with a byte-order mark.
        encoding = "utf-8-sig" if index % 3 == 1 else "utf-8"
        name = f"forcar-patrouilles-{sc.day(int(index))}.csv"
        public(part).to_csv(
            folder / name, sep=";", index=False, encoding=encoding, lineterminator="\r\n"
        )
        files += 1
    return FeedOutput(df, mess.links(df, "forcar.patrols", "id_patrouille", "patrol"), files)


def ncbatt(truth: Truth, gaz: Gazetteer, rng: np.random.Generator, sc: Scenario) -> FeedOutput:
    """NCBATT patrol logs: one JSON-lines file a day, English DTGs, MGRS grids."""
    s = _patrols(truth, "ncbatt", rng)
    n = len(s)
    base = pd.DataFrame(
        {
            "patrol_ref": None,
            "unit": _obj(s["unit"]),
            "task": _obj(s["patrol_type"]),
            "start_dtg": None,
            "end_dtg": None,
            "grid": _obj(to_mgrs(s["_lat"].to_numpy(), s["_lon"].to_numpy())),
            "strength": _obj(rng.integers(10, 36, n)),
            "remarks": mess.pick(rng, NCBATT_REMARKS, n),
            "state": "completed",
            "amends": None,
            "classification": mess.pick(rng, ["mission"] * 8 + ["restricted", "partners"], n),
            "_occ": s["started_at"].to_numpy(),
            "_end": s["ended_at"].to_numpy(),
            "_truth": s["patrol_id"].to_numpy(),
        }
    )

    def correct(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["strength"] = _obj(
            pd.to_numeric(df["strength"], errors="coerce").fillna(10).astype(int) - 1
        )
        df["remarks"] = "AMENDED: " + df["remarks"]
        return df

    def retract(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["state"] = "cancelled"
        df["remarks"] = "Patrol cancelled, logged in error."
        return df

    def malform(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        how = rng.integers(0, 3, len(df))
        df.loc[how == 0, "grid"] = None
        df.loc[how == 1, "grid"] = "GRID UNKNOWN"
        df.loc[how == 2, "strength"] = "unknown"
        return df

    df = mess.publish(
        base, rng, start=sc.start, days=sc.days, period_days=1, delay_hours=8,
        correct=correct, retract=retract, malform=malform,
    )  # fmt: skip
    fmt = "NCB/26/{:05d}".format
    df["patrol_ref"] = _obj(df["_seq"].map(fmt))
    df["amends"] = _obj(np.where(df["_target"] > 0, df["_target"].map(fmt), None))
    zone = np.full(len(df), "Z")
    df["start_dtg"] = _obj(dtg(df["_occ"].to_numpy(), zone, EN_MONTHS))
    df["end_dtg"] = _obj(dtg(df["_end"].to_numpy(), zone, EN_MONTHS))
    q = np.flatnonzero(df["_quarantine"])
    df["_broken"] = False
    # A line cut short in transmission: unreadable JSON, one record read and quarantined.
    df.loc[q[0::3], "_broken"] = True
    df.loc[q[1::3], "start_dtg"] = BAD_DTG
    df.loc[q[2::3], "patrol_ref"] = ""
    df = mess.add_duplicates(df, rng, start=sc.start, days=sc.days, period_days=1)
    lines = pd.Series(json_lines(df), dtype=object)
    broken = df["_broken"].to_numpy()
    lines[broken] = lines[broken].map(lambda line: line[: len(line) // 2])
    df["_line"] = lines.to_numpy()
    folder = sc.inbox("ncbatt.patrols")
    files = 0
    for index, part in df.groupby("_file", sort=True):
        text = "".join(line + "\n" for line in part["_line"])
        (folder / f"ncbatt-patrols-{sc.day(int(index))}.jsonl").write_text(text, "utf-8")
        files += 1
    return FeedOutput(df, mess.links(df, "ncbatt.patrols", "patrol_ref", "patrol"), files)
