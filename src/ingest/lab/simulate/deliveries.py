"""The two aid feeds: the OCHA 3W/4W (HXL-tagged CSV) and FAP distributions (XLSX
workbooks, one sheet per month, two header rows with merged group cells).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from ingest.lab.simulate import mess
from ingest.lab.simulate.formats import Scenario, col_letter, public, strftime, xlsx_bytes
from ingest.lab.simulate.gazetteer import Gazetteer
from ingest.lab.simulate.incidents import FeedOutput, _obj
from ingest.lab.simulate.truth import Truth

# (human header, HXL hashtag); an empty hashtag is an untagged column.
OCHA_COLUMNS = [
    ("Organisation", "#org"),
    ("Sector", "#sector"),
    ("Admin1 P-code", "#adm1+code"),
    ("Admin2 P-code", "#adm2+code"),
    ("Admin2", "#adm2+name"),
    ("Location", "#loc+name"),
    ("Latitude", "#geo+lat"),
    ("Longitude", "#geo+lon"),
    ("Date", "#date"),
    ("Quantity", "#indicator+value"),
    ("Unit", "#indicator+unit"),
    ("People reached", "#reached"),
    ("Female", "#reached+f"),
    ("Male", "#reached+m"),
    ("Activity ID", "#activity+id"),
    ("Replaces", "#activity+id+replaces"),
    ("Status", "#status"),
    ("Comments", ""),
]
OCHA_COMMENTS = np.array(
    ["", "", "", "", "Joint distribution", "Access delayed by rain", "Phase 2"]
)
FAP_GROUPS = [
    ("Distribution", ["Dist. ID", "Date", "Modality", "Status", "Replaces"]),
    ("Location", ["District", "Site"]),
    ("Commodity", ["Type", "Quantity", "Unit"]),
    ("Beneficiaries", ["Total"]),
]
FAP_COLUMNS = [f"{g} / {c}" for g, cols in FAP_GROUPS for c in cols]
FAP_MODALITIES = np.array(["General Food Distribution", "Cash-based transfer", "In-kind"])
FAP_COMMODITIES = np.array(["Cereals", "Pulses", "Vegetable oil"])


def _select(truth: Truth, gaz: Gazetteer, mask: np.ndarray) -> pd.DataFrame:
    d = truth.deliveries.loc[mask].reset_index(drop=True)
    places = gaz.places.set_index("place_id")
    a2 = gaz.admin2.set_index("admin2_pcode")
    d["_place"] = places.loc[d["place_id"], "place_name"].to_numpy()
    d["_plat"] = places.loc[d["place_id"], "latitude"].to_numpy()
    d["_plon"] = places.loc[d["place_id"], "longitude"].to_numpy()
    d["_a2name"] = a2.loc[d["admin2_pcode"], "admin2_name"].to_numpy()
    d["_a1"] = a2.loc[d["admin2_pcode"], "admin1_pcode"].to_numpy()
    return d


def ocha(truth: Truth, gaz: Gazetteer, rng: np.random.Generator, sc: Scenario) -> FeedOutput:
    """OCHA 3W: one HXL CSV a day (human header row, hashtag row, data)."""
    dv = truth.deliveries
    # The 3W covers every partner but FAP reports only about half its activities there.
    mask = (dv["organisation"] != "FAP").to_numpy() | (rng.random(len(dv)) < 0.5)
    s = _select(truth, gaz, mask)
    n = len(s)
    reached = s["beneficiaries"].to_numpy()
    female = np.round(reached * rng.uniform(0.45, 0.6, n)).astype(int)
    no_geo = rng.random(n) < 0.1
    base = pd.DataFrame(
        {
            "#org": _obj(s["organisation"]),
            "#sector": _obj(s["sector"]),
            "#adm1+code": _obj(s["_a1"]),
            "#adm2+code": _obj(s["admin2_pcode"]),
            "#adm2+name": _obj(s["_a2name"]),
            "#loc+name": _obj(s["_place"]),
            "#geo+lat": _obj(np.where(no_geo, "", np.round(s["_plat"], 4).astype(str))),
            "#geo+lon": _obj(np.where(no_geo, "", np.round(s["_plon"], 4).astype(str))),
            "#date": None,
            "#indicator+value": _obj(s["quantity"].astype(int)),
            "#indicator+unit": _obj(s["unit"]),
            "#reached": _obj(reached),
            "#reached+f": _obj(female),
            "#reached+m": _obj(reached - female),
            "#activity+id": None,
            "#activity+id+replaces": "",
            "#status": "completed",
            "Comments": mess.pick(rng, OCHA_COMMENTS, n),
            "_occ": s["delivered_at"].to_numpy(),
            "_truth": s["delivery_id"].to_numpy(),
        }
    )

    def correct(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        value = pd.to_numeric(df["#indicator+value"], errors="coerce").fillna(0).astype(int)
        df["#indicator+value"] = _obj(value + 10)
        df["Comments"] = "Corrected quantity"
        return df

    def retract(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["#status"] = "cancelled"
        df["Comments"] = "Reported twice by mistake"
        return df

    def malform(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        how = rng.integers(0, 4, len(df))
        df.loc[how == 0, "#geo+lat"] = "95.0"
        df.loc[how == 1, ["#geo+lat", "#geo+lon"]] = "0"
        df.loc[how == 2, "#indicator+unit"] = "bags"
        df.loc[how == 3, "#reached"] = "n/a"
        return df

    df = mess.publish(
        base, rng, start=sc.start, days=sc.days, period_days=1, delay_hours=30,
        correct=correct, retract=retract, malform=malform,
    )  # fmt: skip
    fmt = "3W-CR-{:06d}".format
    df["#activity+id"] = _obj(df["_seq"].map(fmt))
    df["#activity+id+replaces"] = _obj(np.where(df["_target"] > 0, df["_target"].map(fmt), ""))
    df["#date"] = strftime(df["_occ"].to_numpy(), "%d/%m/%Y", 3)
    q = np.flatnonzero(df["_quarantine"])
    df.loc[q[0::2], "#date"] = "??/??/2026"
    df.loc[q[1::2], "#activity+id"] = ""
    df = mess.add_duplicates(df, rng, start=sc.start, days=sc.days, period_days=1)
    folder = sc.inbox("ocha.deliveries")
    files = 0
    for index, part in df.groupby("_file", sort=True):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([h for h, _ in OCHA_COLUMNS])
        writer.writerow([t for _, t in OCHA_COLUMNS])
        public(part).to_csv(buf, index=False, header=False, lineterminator="\n")
        (folder / f"ocha-3w-{sc.day(int(index))}.csv").write_text(buf.getvalue(), "utf-8")
        files += 1
    return FeedOutput(df, mess.links(df, "ocha.deliveries", "#activity+id", "delivery"), files)


def fap(truth: Truth, gaz: Gazetteer, rng: np.random.Generator, sc: Scenario) -> FeedOutput:
    """FAP distributions: one XLSX workbook a week, a sheet per month."""
    s = _select(truth, gaz, (truth.deliveries["organisation"] == "FAP").to_numpy())
    n = len(s)
    modality = rng.choice(3, n, p=[0.6, 0.25, 0.15])
    cash = modality == 1
    qty = s["quantity"].to_numpy()
    base = pd.DataFrame(
        {
            "Distribution / Dist. ID": None,
            "Distribution / Date": None,
            "Distribution / Modality": _obj(FAP_MODALITIES[modality]),
            "Distribution / Status": "Completed",
            "Distribution / Replaces": "",
            "Location / District": _obj(s["_a2name"]),
            "Location / Site": _obj(s["_place"]),
            "Commodity / Type": _obj(np.where(cash, "Cash", mess.pick(rng, FAP_COMMODITIES, n))),
            "Commodity / Quantity": _obj(np.where(cash, np.round(qty * 0.8), qty).astype(int)),
            "Commodity / Unit": _obj(np.where(cash, "usd", np.where(qty > 3000, "mt", "kg"))),
            "Beneficiaries / Total": _obj(s["beneficiaries"]),
            "_occ": s["delivered_at"].to_numpy(),
            "_truth": s["delivery_id"].to_numpy(),
        }
    )
    # Large food consignments are counted in tonnes.
    tonnes = base["Commodity / Unit"] == "mt"
    base.loc[tonnes, "Commodity / Quantity"] = _obj(np.round(qty[tonnes.to_numpy()] / 1000, 2))

    def correct(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        total = pd.to_numeric(df["Beneficiaries / Total"], errors="coerce").fillna(0).astype(int)
        df["Beneficiaries / Total"] = _obj(total + 25)
        return df

    def retract(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        df["Distribution / Status"] = "Cancelled"
        return df

    def malform(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        how = rng.integers(0, 3, len(df))
        df.loc[how == 0, "Commodity / Quantity"] = "n/a"
        df.loc[how == 1, "Location / District"] = "Unknown district"
        df.loc[how == 2, "Commodity / Unit"] = "bags"
        return df

    df = mess.publish(
        base, rng, start=sc.start, days=sc.days, period_days=7, delay_hours=48,
        correct=correct, retract=retract, malform=malform,
    )  # fmt: skip
    fmt = "FAP-D-{:05d}".format
    df["Distribution / Dist. ID"] = _obj(df["_seq"].map(fmt))
    df["Distribution / Replaces"] = _obj(np.where(df["_target"] > 0, df["_target"].map(fmt), ""))
    df["Distribution / Date"] = strftime(df["_occ"].to_numpy(), "%Y-%m-%d", 3)
    df["_sheet"] = strftime(df["_occ"].to_numpy(), "%b %Y", 3)
    q = np.flatnonzero(df["_quarantine"])
    df.loc[q[0::2], "Distribution / Date"] = "not known"
    df.loc[q[1::2], "Distribution / Dist. ID"] = ""
    df = mess.add_duplicates(df, rng, start=sc.start, days=sc.days, period_days=7)
    folder = sc.inbox("fap.distributions")
    files = 0
    for index, part in df.groupby("_file", sort=True):
        name = f"fap-distributions-{sc.day(int(index), 7)}.xlsx"
        (folder / name).write_bytes(_workbook(part))
        files += 1
    return FeedOutput(
        df, mess.links(df, "fap.distributions", "Distribution / Dist. ID", "delivery"), files
    )


def _workbook(part: pd.DataFrame) -> bytes:
    """A workbook with one sheet per month, two header rows, merged group cells."""
    row1: list[str] = []
    merges = []
    for group, subs in FAP_GROUPS:
        first = len(row1)
        row1 += [group] + [""] * (len(subs) - 1)
        if len(subs) > 1:
            merges.append(f"{col_letter(first)}1:{col_letter(len(row1) - 1)}1")
    row2 = [c.split(" / ")[1] for c in FAP_COLUMNS]
    # Month sheets in calendar order (sheet names like "Oct 2026" do not sort).
    months = part["_occ"].to_numpy().astype("datetime64[M]")
    sheets = [
        (str(rows["_sheet"].iloc[0]), [row1, row2], merges, rows[FAP_COLUMNS])
        for _, rows in part.groupby(months, sort=True)
    ]
    return xlsx_bytes(sheets)
