"""The pure payment rules of paygate. Standard library only; no I/O, no clock reads."""
