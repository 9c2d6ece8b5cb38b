"""One use case per module: a small class taking its ports, called with a command."""
