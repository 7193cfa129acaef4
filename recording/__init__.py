"""Every message as it arrived, in SQLite: the one writer, the reader, checkpoints and the
indexer that writes them, and history for a fresh screen."""
