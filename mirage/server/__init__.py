"""The HTTP layer: create_app(settings) builds the Sanic app; daemon.py runs it."""
