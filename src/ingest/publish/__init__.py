"""Publishing: the per-audience dataset written from a warehouse that passed the gate,
with its data dictionary."""
