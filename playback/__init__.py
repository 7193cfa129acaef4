"""Recordings and exercises on their own clock: the player, replay controls, following an
exercise, republishing into a broker."""
