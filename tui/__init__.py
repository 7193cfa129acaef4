"""The crisis-room terminal UI. It renders what `chain` decides; it decides nothing itself."""
