"""The shared kernel: what every service needs, written once."""
