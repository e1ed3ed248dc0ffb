"""The lab: a simulated country's agencies, a feed server for them and the demo. Not
needed to run the hub on real feeds."""
