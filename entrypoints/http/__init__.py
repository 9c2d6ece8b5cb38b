"""The Litestar HTTP API: merchant API, admin API, channel notifications, operations."""
