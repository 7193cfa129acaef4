"""Every message as it arrived, in SQLite: the one writer, the one reader, the one fold loop,
history for a fresh screen, and the store of the replay's checkpoints."""
