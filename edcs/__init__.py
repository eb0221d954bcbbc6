"""edcs: the command line and the embedded stack, composed from the services."""
