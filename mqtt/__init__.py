"""The client side of MQTT: broker addresses, TLS, a connection that reconnects, the monitor
loop."""
