"""`python -m ingest.serve.dashboard.server run app.py ...`: Streamlit's own command line, run
after importing what every page of the dashboard needs.

Streamlit runs the page script inside its server process, so the script's imports
(pandas, Altair, shapely, DuckDB) happen at the first page of the first visitor:
8 to 10 s of a cold first page on a busy two-core machine. Imported here, before the
server listens, they are already loaded when the first visitor arrives.
"""

from __future__ import annotations


def main() -> None:
    import altair  # noqa: F401
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import shapely  # noqa: F401
    from streamlit.web.cli import main as streamlit

    import ingest.serve.dashboard.mapchart
    import ingest.serve.dashboard.palette
    import ingest.serve.dashboard.queries  # noqa: F401

    streamlit(prog_name="streamlit")


if __name__ == "__main__":
    main()
