"""The risk, order and channel services as HTTP processes of their own.

Each is the same in-process adapter behind a small Litestar app, so a deployment can split
them out and the gateway reaches them through the HTTP client adapters.
"""
