"""The one palette of the dashboard's three entities, used by the map, every chart and
their captions: declared here only.

Okabe and Ito's colour-universal-design set ("Color Universal Design", 2008): the three
stay distinct under the common colour-vision deficiencies (deuteranopia, protanopia,
tritanopia) and in greyscale by lightness, which red/green/blue pairs do not.
"""

from __future__ import annotations

ENTITIES = ("incident", "delivery", "patrol")
COLOURS = {"incident": "#D55E00", "delivery": "#009E73", "patrol": "#0072B2"}
COLOUR_NAMES = {"incident": "vermillion", "delivery": "bluish green", "patrol": "blue"}
PLURALS = {"incident": "incidents", "delivery": "deliveries", "patrol": "patrols"}


def rgb(entity: str) -> tuple[int, int, int]:
    text = COLOURS[entity].lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def rgba(entity: str) -> list[int]:
    """deck.gl's colour: opaque, so a dot shows its entity's colour and no blend."""
    return [*rgb(entity), 255]


def legend() -> str:
    """The caption's key, in the palette's words: '● incidents (vermillion) ...'."""
    return "  ".join(f"● {PLURALS[e]} ({COLOUR_NAMES[e]})" for e in ENTITIES)


def scale_domain() -> list[str]:
    """Series names (plural, as the queries label them) for a Vega-Lite colour scale."""
    return [PLURALS[e] for e in ENTITIES]


def scale_range() -> list[str]:
    return [COLOURS[e] for e in ENTITIES]
