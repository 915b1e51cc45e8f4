"""Message placeholders that the project phase fills in."""

DETAIL = "\x00detail\x00"
