"""Durable workspace state: per-workspace folder, append-only log, snapshots."""
