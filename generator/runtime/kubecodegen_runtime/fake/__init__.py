"""A fake API server in memory, for testing code written on the generated clients."""
