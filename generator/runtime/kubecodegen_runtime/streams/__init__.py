"""Pod streams over WebSocket channels: exec/attach and port-forward."""
