"""Everything that talks to an MQTT broker: addresses, topics, connections, the embedded broker."""
