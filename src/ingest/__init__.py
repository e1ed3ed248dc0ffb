"""PeaceOps Data Hub: the ingest package (feeds, decoding, event log, pipeline stages, CLI)."""

import os

# The hub talks to nothing but its configured feeds: switch off every library's
# usage telemetry before any of them is imported (values set by the user win).
for _name, _value in {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
}.items():
    os.environ.setdefault(_name, _value)
