"""The broker itself: the embedded one (a supervised nats-server), and provisioning for Mosquitto
and NATS (roles and permissions, passwords, certificates, configs, init and rotate)."""
