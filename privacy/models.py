"""The privacy app's models: none yet (the erasure audit record will live here)."""
