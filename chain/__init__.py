"""The pure domain core: topology, wire messages and the state engine. No I/O here."""
