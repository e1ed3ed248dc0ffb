"""Military grid references (MGRS) to WGS84 degrees, vectorised over an Arrow array.

`decode` answers as `mgrs_to_latlon` does (the `mgrs` package, NGA GEOTRANS 3.10, one
reference at a time), for a whole batch at once in numpy:

- the strings' bytes (from the Arrow buffers, whitespace dropped) are read at the same places
  in every reference, letters upper-cased, and checked as `MGRS_RE` would: zone 1-60,
  latitude band, 100 km square letters, an even count of at most 10 digits;
- each reference becomes UTM as GEOTRANS computes it: the zone's letter set (zone % 6) turns
  the column letter into an easting and the row letter into a northing modulo 2,000,000 m,
  lifted to at least the band's minimum northing; the digits name a cell, whose centre is the
  point (what `toLatLon` returns since mgrs 1.6, not the south-west corner);
- then the inverse transverse Mercator (Krüger series, GEOTRANS's WGS84 coefficients) and
  GEOTRANS's checks: a square letter outside the zone's set, a northing past 10,000,000 m, or a
  latitude outside the band and its neighbours (widened by 1 degree / 10**precision) is NaN,
  as are the squares GEOTRANS refuses around Norway and Svalbard (31V east of D; 32X, 34X, 36X).

Rows with a non-ASCII character (Python's whitespace, upper-casing and digits reach beyond
ASCII) and the very rare ones that land within a rounding error of one of those latitude
limits or of the antimeridian go through `mgrs_to_latlon`, the package itself.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pyarrow as pa

# zone 1-60 (1-9 with or without a leading 0, as the package writes them), latitude band
# C-X (no I, O), 100 km square letters, easting+northing digits
MGRS_RE = re.compile(r"^(?:0?[1-9]|[1-5]\d|60)[C-HJ-NP-X][A-HJ-NP-Z][A-HJ-NP-V](\d{0,10})$")


def mgrs_to_latlon(ref: str) -> tuple[float, float] | None:
    """One MGRS reference to (lat, lon), None when unparsable: the `mgrs` package."""
    import mgrs

    text = "".join(ref.split()).upper()
    m = MGRS_RE.match(text)
    if not m or len(m.group(1)) % 2:
        return None
    try:
        lat, lon = mgrs.MGRS().toLatLon(text)
    except Exception:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    return float(lat), float(lon)


# GEOTRANS's constants (MGRS.cpp, UTM.cpp, TransverseMercator.cpp)
_PI = 3.14159265358979323
_RAD = _PI / 180.0
_UTM_MIN_LAT = -80.5 * _RAD - 1.75e-7
_UTM_MAX_LAT = 84.5 * _RAD + 1.75e-7
_INV_F = 298.257223563
_N = 1.0 / (2 * _INV_F - 1.0)  # third flattening
# k0 times the rectifying radius
_K0A = (
    0.9996
    * 6378137.0
    * (1 + _N**2 / 4 + _N**4 / 64 + _N**6 / 256 + 25 * _N**8 / 16384 + 49 * _N**10 / 65536)
    / (1 + _N)
)
# GEOTRANS's Krüger coefficients for WGS84 (ellipsoid "WE"): conformal from rectifying
_BETA = np.array(
    [
        -8.3773216405794867707e-04,
        -5.905870152220365181e-08,
        -1.67348266534382493e-10,
        -2.1647981104903862e-13,
        -3.787930968839601e-16,
        -7.23676928796690e-19,
    ]
)
# geodetic from conformal latitude (Karney 2011, eq. 37), in place of GEOTRANS's iteration:
# the two agree to 3e-15 rad
_DELTA = np.array(
    [
        2 * _N
        - 2 * _N**2 / 3
        - 2 * _N**3
        + 116 * _N**4 / 45
        + 26 * _N**5 / 45
        - 2854 * _N**6 / 675,
        7 * _N**2 / 3 - 8 * _N**3 / 5 - 227 * _N**4 / 45 + 2704 * _N**5 / 315 + 2323 * _N**6 / 945,
        56 * _N**3 / 15 - 136 * _N**4 / 35 - 1262 * _N**5 / 105 + 73814 * _N**6 / 2835,
        4279 * _N**4 / 630 - 332 * _N**5 / 35 - 399572 * _N**6 / 14175,
        4174 * _N**5 / 315 - 144838 * _N**6 / 6237,
        601676 * _N**6 / 22275,
    ]
)

_A = ord("A")
# By band letter (index 0 = 'A'; zero for the letters that name no band): the minimum
# northing, the northing offset, and the latitudes (radians) the reference may decode to:
# the band and its neighbours (C and X have one), before the precision's margin.
_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_BAND_INDEX = np.array([ord(b) - _A for b in _BANDS])
_MIN_NORTHING = np.zeros(26)
_MIN_NORTHING[_BAND_INDEX] = 1e5 * np.array(
    [11, 20, 28, 37, 46, 55, 64, 73, 82, 91, 0, 8, 17, 26, 35, 44, 53, 62, 70, 79]
)
_NORTHING_OFFSET = np.zeros(26)
_NORTHING_OFFSET[_BAND_INDEX] = 1e6 * np.array(
    [0, 2, 2, 2, 4, 4, 6, 6, 8, 8, 0, 0, 0, 2, 2, 4, 4, 6, 6, 6]
)
# band i spans -80 + 8i .. -72 + 8i degrees, but C starts at -80.5 and X ends at 84.5
_LAT_LO = np.zeros(26)
_LAT_LO[_BAND_INDEX] = _RAD * np.array([-80.5, -80.5, *(-80 + 8 * i for i in range(1, 19))])
_LAT_HI = np.zeros(26)
_LAT_HI[_BAND_INDEX] = _RAD * np.array([*(-64 + 8 * i for i in range(18)), 84.5, 84.5])

# By zone: the first column letter of its set (A, J or S for zone % 6 = 1 or 4, 2 or 5, 3 or
# 0), the shift of its row letters (at northing 0: A, but F in even zones), the central meridian
_ZONES = np.arange(61)
_COLUMN_LOW = np.array([ord("S") - _A, 0, ord("J") - _A])[_ZONES % 3]
_ROW_SHIFT = np.where(_ZONES % 2 == 0, 500_000.0, 0.0)
_CENTRAL_MERIDIAN = (6 * _ZONES - 183) * _RAD

_CELL = 10.0 ** (5 - np.arange(6))  # cell size (m) by precision (digits per axis)
_PLACES = [10.0 ** np.arange(p - 1, -1, -1) for p in range(6)]  # digit weights


def _byte_table(chars: str) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(chars.encode())] = True
    return table


_SPACE = _byte_table("".join(chr(c) for c in range(128) if chr(c).isspace()))  # str.split()'s
_UPPER = np.arange(256, dtype=np.uint8)
_UPPER[ord("a") : ord("z") + 1] -= 32
_BAND_OK = _byte_table(_BANDS)
_COLUMN_OK = _byte_table("ABCDEFGHJKLMNPQRSTUVWXYZ")
_ROW_OK = _byte_table("ABCDEFGHJKLMNPQRSTUV")


def _utf8(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bytes, the row offsets into them (n + 1, from 0) and the validity of a string array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.large_string())  # string views, dictionaries, all-null arrays
    n = len(values)
    valid = (
        np.ones(n, dtype=bool)
        if values.null_count == 0
        else np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    )
    _, offsets_buf, data_buf = values.buffers()
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=offset_type)[values.offset : values.offset + n + 1]
    offsets = offsets.astype(np.int64)
    data = (
        np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
        if data_buf is not None
        else np.zeros(0, dtype=np.uint8)
    )
    return data, offsets - offsets[0], valid


def _tm_inverse(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTM's transverse Mercator, metres from the central meridian and the equator, to
    (latitude, longitude east of the central meridian) in radians."""
    xi = y / _K0A
    eta = x / _K0A
    # zeta' = zeta + sum beta_k sin(2k zeta), zeta = xi + i eta, by Clenshaw's recurrence
    # on cos(2 zeta) and sin(2 zeta), written out in real functions of xi and eta
    e2 = np.exp(2 * eta)
    ch, sh = (e2 + 1 / e2) / 2, (e2 - 1 / e2) / 2
    c, s = np.cos(2 * xi), np.sin(2 * xi)
    two_cos = 2 * (c * ch - 1j * (s * sh))
    b1 = np.zeros_like(two_cos)
    b2 = np.zeros_like(two_cos)
    for beta in _BETA[::-1]:
        b1, b2 = beta + two_cos * b1 - b2, b1
    zeta = xi + 1j * eta + b1 * (s * ch + 1j * (c * sh))
    xi_p, eta_p = zeta.real, zeta.imag
    ep = np.exp(eta_p)
    sinh_eta, cosh_eta = (ep - 1 / ep) / 2, (ep + 1 / ep) / 2
    lam = np.arctan2(sinh_eta, np.cos(xi_p))
    sin_chi = np.sin(xi_p) / cosh_eta
    cos_chi = np.sqrt(1.0 - sin_chi * sin_chi)
    # phi = chi + sum delta_k sin(2k chi), by the same recurrence
    two_cos_chi = 2 * (cos_chi * cos_chi - sin_chi * sin_chi)
    d1 = np.zeros_like(x)
    d2 = np.zeros_like(x)
    for delta in _DELTA[::-1]:
        d1, d2 = delta + two_cos_chi * d1 - d2, d1
    phi = np.arcsin(sin_chi) + 2 * sin_chi * cos_chi * d1
    return phi, lam


def decode(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """MGRS references to (latitude, longitude) in degrees, NaN where `mgrs_to_latlon` is None."""
    n = len(values)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    if n == 0:
        return lat, lon
    data, offsets, valid = _utf8(values)
    per_value = np.zeros(n, dtype=bool)  # rows for mgrs_to_latlon
    if len(data) and data.max() >= 0x80:
        non_ascii = np.concatenate(([0], np.cumsum(data >= 0x80)))
        per_value = valid & (non_ascii[offsets[1:]] > non_ascii[offsets[:-1]])
    if len(data) and data.min() <= ord(" "):  # some whitespace, perhaps
        space = _SPACE[data]
        before = np.concatenate(([0], np.cumsum(space)))
        data = data[~space]
        offsets = offsets - before[offsets]
    start = offsets[:-1]
    size = np.diff(offsets)
    # the first 5 characters: zone (1 or 2 digits) and the 3 letters (upper-cased)
    padded = np.concatenate((data, np.zeros(5, dtype=np.uint8)))  # the last row may be empty
    head = padded[start[:, None] + np.arange(5)]
    # byte - '0' in uint8: below '0' wraps round past 10
    digit0 = (head[:, 0] - np.uint8(ord("0"))) < 10
    two = (head[:, 1] - np.uint8(ord("0"))) < 10
    zone = head[:, 0].astype(np.int64) - ord("0")
    zone = np.where(two, zone * 10 + head[:, 1] - ord("0"), zone)
    band_char = _UPPER[np.where(two, head[:, 2], head[:, 1])]
    column_char = _UPPER[np.where(two, head[:, 3], head[:, 2])]
    row_char = _UPPER[np.where(two, head[:, 4], head[:, 3])]
    # as MGRS_RE: zone 1-60 (a leading 0 allowed), band and square letters, then an even
    # count of at most 10 characters (digits: checked below)
    tail = size - 4 - two
    ok = valid & ~per_value & digit0 & (zone >= 1) & (zone <= 60)
    ok &= _BAND_OK[band_char] & _COLUMN_OK[column_char] & _ROW_OK[row_char]
    ok &= (tail >= 0) & (tail <= 10) & (tail % 2 == 0)

    idx = np.nonzero(ok)[0]
    zone = zone[idx]
    band = band_char[idx].astype(np.int64) - _A
    column = column_char[idx].astype(np.int64) - _A
    row = row_char[idx].astype(np.int64) - _A
    precision = tail[idx] // 2
    # easting and northing within the square, by layout (zone digits, precision): the digits
    # of one layout are at the same places
    east = np.zeros(len(idx))
    north = np.zeros(len(idx))
    bad = np.zeros(len(idx), dtype=bool)
    layout = two[idx] * 6 + precision
    for key in np.nonzero(np.bincount(layout, minlength=12))[0].tolist():
        zone_digits, p = 1 + key // 6, key % 6
        if p == 0:
            continue
        at = np.nonzero(layout == key)[0]
        block = padded[start[idx[at], None] + (zone_digits + 3 + np.arange(2 * p))] - 48.0
        # any non-digit: a row-wise any() as a matrix product, faster on such short rows
        bad[at] = ((block < 0) | (block > 9)) @ np.ones(2 * p) > 0
        east[at] = block[:, :p] @ _PLACES[p]
        north[at] = block[:, p:] @ _PLACES[p]
    cell = _CELL[precision]
    # the 100 km square, as GEOTRANS's MGRS::toUTM
    low = _COLUMN_LOW[zone]
    bad |= (column < low) | (column > low + 7 + (low == ord("J") - _A))
    bad |= (band == ord("X") - _A) & ((zone == 32) | (zone == 34) | (zone == 36))
    bad |= (band == ord("V") - _A) & (zone == 31) & (column > ord("D") - _A)
    grid_e = 100_000.0 * (column - low + 1 - ((low == ord("J") - _A) & (column > ord("O") - _A)))
    grid_n = 100_000.0 * (row - (row > ord("O") - _A) - (row > ord("I") - _A)) - _ROW_SHIFT[zone]
    grid_n = np.where(grid_n < 0, grid_n + 2_000_000.0, grid_n) + _NORTHING_OFFSET[band]
    grid_n = np.where(grid_n < _MIN_NORTHING[band], grid_n + 2_000_000.0, grid_n)
    easting = grid_e + east * cell + cell / 2
    northing = grid_n + north * cell + cell / 2
    bad |= northing > 10_000_000.0  # eastings stay within 100,000..900,000 m

    southern = band < ord("N") - _A
    phi, lam = _tm_inverse(easting - 500_000.0, northing - np.where(southern, 1e7, 0.0))
    lam += _CENTRAL_MERIDIAN[zone]
    border = _RAD / 10.0**precision
    lo = _LAT_LO[band] - border
    hi = _LAT_HI[band] + border
    bad |= (phi < _UTM_MIN_LAT) | (phi >= _UTM_MAX_LAT) | (phi < lo) | (phi > hi)
    # within a rounding error (1e-9 rad, 6 mm) of a limit, or of longitude -180/180 (which
    # side?): the package decides
    near = np.abs(np.abs(lam) - _PI) < 1e-9
    for limit in (_UTM_MIN_LAT, _UTM_MAX_LAT, lo, hi):
        near |= np.abs(phi - limit) < 1e-9
    lam = np.where(lam > _PI, lam - 2 * _PI, lam)
    lam = np.where(lam <= -_PI, lam + 2 * _PI, lam)
    good = ~bad & ~near
    lat[idx[good]] = phi[good] / _RAD
    lon[idx[good]] = lam[good] / _RAD

    per_value[idx[near]] = True
    for i in np.nonzero(per_value)[0].tolist():
        latlon = mgrs_to_latlon(values[i].as_py())
        if latlon is not None:
            lat[i], lon[i] = latlon
    return lat, lon
