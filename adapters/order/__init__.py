"""Order books: the local one (same database) and the client of a remote order service."""
