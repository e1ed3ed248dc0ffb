"""The three incident feeds: UNMIC sitreps (JSON API), MOI reports (Latin-1 CSV) and
CPN community reports (JSON). Each reports a different subset of the true incidents,
with its own clock, vocabulary, location habits and fatality counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingest.lab.simulate import mess
from ingest.lab.simulate.formats import (
    Scenario,
    iso,
    json_lines,
    public,
    strftime,
    write_json_lines,
)
from ingest.lab.simulate.gazetteer import Gazetteer
from ingest.lab.simulate.truth import INCIDENT_TYPES, Truth

MINUTE = 60.0
KM = 1 / 111.0  # degrees of latitude per km

MOI_TYPES = np.array(
    ["AFFRONTEMENT ARME", "ENGIN EXPLOSIF", "ATTAQUE CONTRE CIVILS", "ENLEVEMENT",
     "MANIFESTATION", "EMEUTE", "PILLAGE"]
)  # fmt: skip
CPN_TYPES = np.array(
    ["affrontement", "explosion", "attaque", "enlèvement", "manifestation", "émeute", "pillage"]
)
EN_PHRASES = np.array(
    ["Exchange of fire between armed groups", "IED detonation on the main supply route",
     "Armed men attacked civilians", "Abduction of civilians reported",
     "Peaceful demonstration", "Violent riot with roadblocks", "Looting of shops and houses"]
)  # fmt: skip
FR_PHRASES = np.array(
    ["Affrontements entre groupes armés", "Explosion d'un engin sur l'axe principal",
     "Attaque d'hommes armés contre des civils", "Enlèvement de civils signalé",
     "Manifestation pacifique", "Émeute, barricades sur la route", "Pillage de boutiques"]
)  # fmt: skip
EN_TAILS = np.array(
    ["Situation calm at time of reporting.", "Patrol dispatched to verify.",
     "Population displaced towards the nearest town.", "Information from local authorities.",
     "Casualties evacuated to the district hospital.", "Further details pending."]
)  # fmt: skip
MOI_TAILS = np.array(
    ['Rapport du commissariat, "situation sous contrôle".',
     "Enquête ouverte, suspects en fuite.\nRenforts demandés.",
     'Témoins: "des tirs toute la nuit", selon le préfet.',
     "Blessés évacués, bilan provisoire.",
     "Route coupée, circulation interrompue.\nPoste de gendarmerie alerté."]
)  # fmt: skip
CPN_TAILS = np.array(
    ["Les habitants ont fui vers la brousse.", "Community members report heavy gunfire.",
     "Le marché est fermé depuis ce matin.", "Women and children sheltering at the church.",
     "Information relayée par notre point focal."]
)  # fmt: skip
FIRST = np.array(["Jean-Baptiste", "Marie", "Amadou", "Fatimé", "Joseph", "Aïcha", "Pierre"])
LAST = np.array(["Ndoumbé", "Kossi", "Mahamat", "Yakité", "Gbaya", "Ouédraogo", "Zanga"])


@dataclass(frozen=True)
class FeedOutput:
    frame: pd.DataFrame
    links: pd.DataFrame
    files: int


def _select(truth: Truth, gaz: Gazetteer, rng: np.random.Generator, share: float) -> pd.DataFrame:
    """The incidents an agency hears of, joined with their place."""
    inc = truth.incidents
    chosen = inc.loc[rng.random(len(inc)) < share].reset_index(drop=True)
    places = gaz.places.set_index("place_id")
    names = gaz.admin2.set_index("admin2_pcode")["admin2_name"]
    chosen["_place"] = places.loc[chosen["place_id"], "place_name"].to_numpy()
    alt = places.loc[chosen["place_id"], "alt_names"].str.split("|").str[0]
    chosen["_alt"] = alt.to_numpy()
    chosen["_district"] = names.loc[places.loc[chosen["place_id"], "admin2_pcode"]].to_numpy()
    chosen["_kind_ix"] = pd.Categorical(chosen["incident_type"], INCIDENT_TYPES).codes
    return chosen


def _jitter_minutes(rng: np.random.Generator, n: int, sd: float, cap: float) -> np.ndarray:
    # Agencies report whole minutes.
    return np.round(np.clip(rng.normal(0, sd, n), -cap, cap)) * MINUTE


def _obj(values: np.ndarray | pd.Series) -> np.ndarray:
    return np.asarray(values, dtype=object)


# --- UNMIC --------------------------------------------------------------------------


def unmic(truth: Truth, gaz: Gazetteer, rng: np.random.Generator, sc: Scenario) -> FeedOutput:
    """UNMIC sitreps: `out/api/unmic.sitreps/records.jsonl`, in publication order."""
    s = _select(truth, gaz, rng, 0.8)
    n = len(s)
    occ = s["occurred_at"].to_numpy() + mess.seconds(_jitter_minutes(rng, n, 15, 45))
    base = pd.DataFrame(
        {
            "report_id": None,
            "occurred_at": None,
            "reported_at": None,
            "incident_type": _obj(s["incident_type"]),
            "fatalities": _obj(s["fatalities"] + (rng.random(n) < 0.1)),
            "summary": _obj(
                EN_PHRASES[s["_kind_ix"]]
                + " near "
                + s["_place"]
                + ". "
                + mess.pick(rng, EN_TAILS, n)
            ),
            "location": _obj(s["_place"]),
            "lat": _obj(np.round(s["latitude"] + rng.normal(0, 0.6 * KM, n), 5)),
            "lon": _obj(np.round(s["longitude"] + rng.normal(0, 0.6 * KM, n), 5)),
            "admin2": _obj(s["admin2_pcode"]),
            "classification": mess.pick(
                rng, ["mission"] * 7 + ["partners", "public", "restricted"], n
            ),
            "status": "reported",
            "supersedes": None,
            "_occ": occ,
            "_tz": np.where(rng.random(n) < 0.6, 3, 0),
            "_truth": s["incident_id"].to_numpy(),
        }
    )

    def correct(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["fatalities"] = _obj(
            pd.to_numeric(df["fatalities"], errors="coerce").fillna(0).astype(int) + 1
        )
        df["summary"] = "CORRECTION: " + df["summary"]
        df["_occ"] = df["_occ"].to_numpy() + mess.seconds(rng.uniform(-3600, 3600, len(df)))
        return df

    def retract(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["status"] = "retracted"
        df["summary"] = "RETRACTED: report could not be verified."
        return df

    def malform(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        how = rng.integers(0, 5, len(df))
        df.loc[how == 0, ["lat", "lon"]] = None
        df.loc[how == 1, "lat"] = 95.0
        df.loc[how == 2, ["lat", "lon"]] = 0.0
        df.loc[how == 3, "fatalities"] = "unknown"
        df.loc[how == 4, "incident_type"] = "SHOOTING"
        return df

    df = mess.publish(
        base, rng, start=sc.start, days=sc.days, period_days=1, delay_hours=6,
        correct=correct, retract=retract, malform=malform,
    )  # fmt: skip
    df["report_id"] = _obj(pd.Series(df["_seq"]).map("UNMIC-SR-{:06d}".format))
    df["supersedes"] = _obj(
        np.where(df["_target"] > 0, df["_target"].map("UNMIC-SR-{:06d}".format), None)
    )
    df["occurred_at"] = _obj(iso(df["_occ"].to_numpy(), df["_tz"].to_numpy()))
    df["reported_at"] = _obj(iso(df["_pub"].to_numpy(), np.zeros(len(df))))
    q = np.flatnonzero(df["_quarantine"])
    df.loc[q[0::2], "occurred_at"] = "not known"
    df.loc[q[1::2], "report_id"] = ""
    df = mess.add_duplicates(df, rng, start=sc.start, days=sc.days, period_days=1)
    # An API stream has one order: publication time, re-sends included.
    df = df.sort_values("_pub", kind="stable").reset_index(drop=True)
    folder = sc.out / "api" / "unmic.sitreps"
    folder.mkdir(parents=True, exist_ok=True)
    write_json_lines(df, folder / "records.jsonl")
    return FeedOutput(df, mess.links(df, "unmic.sitreps", "report_id", "incident"), 1)


# --- MOI ----------------------------------------------------------------------------


def moi(truth: Truth, gaz: Gazetteer, rng: np.random.Generator, sc: Scenario) -> FeedOutput:
    """Ministry of Interior: daily Latin-1 CSV, local time, place names only."""
    s = _select(truth, gaz, rng, 0.6)
    n = len(s)
    occ = s["occurred_at"].to_numpy() + mess.seconds(_jitter_minutes(rng, n, 50, 120))
    place = np.where(rng.random(n) < 0.25, s["_alt"], s["_place"])
    base = pd.DataFrame(
        {
            "Incident No": None,
            "Date": None,
            "Time": None,
            "Type": _obj(MOI_TYPES[s["_kind_ix"]]),
            "Place": _obj(place),
            "District": _obj(s["_district"]),
            "Killed": _obj(np.maximum(0, s["fatalities"] + rng.integers(-1, 2, n))),
            "Description": _obj(
                FR_PHRASES[s["_kind_ix"]]
                + ", localité de "
                + place
                + ". "
                + mess.pick(rng, MOI_TAILS, n)
            ),
            "Status": mess.pick(rng, ["OPEN", "OPEN", "CLOSED"], n),
            "Amends": "",
            "_occ": occ,
            "_no_time": rng.random(n) < 0.1,
            "_truth": s["incident_id"].to_numpy(),
        }
    )

    def correct(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["Killed"] = _obj(pd.to_numeric(df["Killed"], errors="coerce").fillna(0).astype(int) + 2)
        df["Status"] = "CLOSED"
        df["Description"] = "Bilan révisé. " + df["Description"]
        return df

    def retract(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["Status"] = "WITHDRAWN"
        df["Description"] = "Rapport annulé, information non confirmée."
        return df

    def malform(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        how = rng.integers(0, 3, len(df))
        df.loc[how == 0, "Killed"] = "unknown"
        df.loc[how == 1, "Type"] = "INCENDIE"
        df.loc[how == 2, "Place"] = "Lieu-dit " + df.loc[how == 2, "Place"] + " (brousse)"
        return df

    df = mess.publish(
        base, rng, start=sc.start, days=sc.days, period_days=1, delay_hours=20,
        correct=correct, retract=retract, malform=malform,
    )  # fmt: skip
    fmt = "MOI/2026/{:05d}".format
    df["Incident No"] = _obj(df["_seq"].map(fmt))
    df["Amends"] = _obj(np.where(df["_target"] > 0, df["_target"].map(fmt), ""))
    df["Date"] = strftime(df["_occ"].to_numpy(), "%d/%m/%Y", 3)
    df["Time"] = _obj(np.where(df["_no_time"], "", strftime(df["_occ"].to_numpy(), "%H:%M", 3)))
    q = np.flatnonzero(df["_quarantine"])
    df.loc[q[0::2], "Date"] = "??/??/2026"
    df.loc[q[1::2], "Incident No"] = ""
    nfiles = mess.n_files(sc.days, 1)
    # The ministry renames its id column half-way through the period.
    rename_at = nfiles // 2 if nfiles > 1 else nfiles
    df = mess.add_duplicates(
        df, rng, start=sc.start, days=sc.days, period_days=1, segment_starts=(rename_at,)
    )
    folder = sc.inbox("moi.incidents")
    files = 0
    for index, part in df.groupby("_file", sort=True):
        table = public(part)
        if index >= rename_at:
            table = table.rename(columns={"Incident No": "Incident Number"})
        name = f"moi-incidents-{sc.day(int(index))}.csv"
        table.to_csv(folder / name, index=False, encoding="latin-1", lineterminator="\r\n")
        files += 1
    return FeedOutput(df, mess.links(df, "moi.incidents", "Incident No", "incident"), files)


# --- CPN ----------------------------------------------------------------------------


def cpn(truth: Truth, gaz: Gazetteer, rng: np.random.Generator, sc: Scenario) -> FeedOutput:
    """Carana Peace Network: a daily JSON document of community reports."""
    s = _select(truth, gaz, rng, 0.45)
    n = len(s)
    occ = s["occurred_at"].to_numpy() + mess.seconds(_jitter_minutes(rng, n, 50, 120))
    how = rng.random(n)
    lieu = np.where(
        how < 0.6, s["_place"], np.where(how < 0.85, s["_alt"], "près de " + s["_place"])
    )
    no_coords = rng.random(n) < 0.25
    lat = np.round(s["latitude"] + rng.normal(0, 2 * KM, n), 3)
    lon = np.round(s["longitude"] + rng.normal(0, 2 * KM, n), 3)
    pii = rng.random(n) < 0.15
    phone = pd.Series(rng.integers(70_000_000, 79_999_999, n).astype(str))
    witness = (
        " Témoin: " + mess.pick(rng, FIRST, n) + " " + mess.pick(rng, LAST, n)
        + ", tél. +236 " + phone.str[:2] + " " + phone.str[2:4] + " " + phone.str[4:6]
        + " " + phone.str[6:]
    )  # fmt: skip
    desc = (
        np.where(rng.random(n) < 0.5, FR_PHRASES[s["_kind_ix"]], EN_PHRASES[s["_kind_ix"]])
        + " - " + lieu + ". " + mess.pick(rng, CPN_TAILS, n)
    )  # fmt: skip
    base = pd.DataFrame(
        {
            "uid": None,
            "date": None,
            "type": _obj(CPN_TYPES[s["_kind_ix"]]),
            "lieu": _obj(lieu),
            "latitude": _obj(np.where(no_coords, None, lat)),
            "longitude": _obj(np.where(no_coords, None, lon)),
            "morts": _obj(s["fatalities"] + rng.poisson(0.5, n)),
            "description": _obj(np.where(pii, desc + witness.to_numpy(), desc)),
            "statut": "signalé",
            "corrige": None,
            "_occ": occ,
            "_date_only": rng.random(n) < 0.4,
            "_truth": s["incident_id"].to_numpy(),
        }
    )

    def correct(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["morts"] = _obj(pd.to_numeric(df["morts"], errors="coerce").fillna(0).astype(int) + 1)
        df["description"] = "Mise à jour: " + df["description"]
        return df

    def retract(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["statut"] = "retiré"
        df["description"] = "Signalement retiré (rumeur)."
        return df

    def malform(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        how = rng.integers(0, 4, len(df))
        df.loc[how == 0, "morts"] = "plusieurs"
        df.loc[how == 1, "latitude"] = 95.0
        df.loc[how == 2, ["latitude", "longitude"]] = 0.0
        df.loc[how == 3, "type"] = "fusillade"
        return df

    df = mess.publish(
        base, rng, start=sc.start, days=sc.days, period_days=1, delay_hours=12,
        correct=correct, retract=retract, malform=malform,
    )  # fmt: skip
    fmt = "CPN-{:06d}".format
    df["uid"] = _obj(df["_seq"].map(fmt))
    df["corrige"] = _obj(np.where(df["_target"] > 0, df["_target"].map(fmt), None))
    occ = df["_occ"].to_numpy()
    df["date"] = _obj(
        np.where(df["_date_only"], strftime(occ, "%Y-%m-%d", 3), iso(occ, np.full(len(df), 3)))
    )
    q = np.flatnonzero(df["_quarantine"])
    df.loc[q[0::2], "date"] = "not known"
    df.loc[q[1::2], "uid"] = ""
    df = mess.add_duplicates(df, rng, start=sc.start, days=sc.days, period_days=1)
    folder = sc.inbox("cpn.incidents")
    files = 0
    for index, part in df.groupby("_file", sort=True):
        day = sc.day(int(index))
        lines = json_lines(part)
        doc = (
            '{"network": "CPN", "generated": ' + json.dumps(f"{day}T21:00:00Z")
            + ', "reports": [\n  ' + ",\n  ".join(lines) + "\n]}\n"
        )  # fmt: skip
        (folder / f"cpn-incidents-{day}.json").write_text(doc, "utf-8")
        files += 1
    return FeedOutput(df, mess.links(df, "cpn.incidents", "uid", "incident"), files)
