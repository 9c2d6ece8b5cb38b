"""Clock, identifiers, the secret vault and the outgoing webhook client."""
