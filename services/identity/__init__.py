"""The identity stage: files posted SSIDs into the registry and finds likely duplicates."""
