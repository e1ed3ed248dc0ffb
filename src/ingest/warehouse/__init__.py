"""The warehouse: dbt builds over the event log, the country packs and registry as
tables, the dbt plugin's functions, and each published mart's rules read from dbt."""
