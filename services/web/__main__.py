"""``python -m services.web``: serve the web app with uvicorn."""

import sys

import uvicorn

from services.web.app import create_app
from shared.errors import ConfigError
from shared.observability import setup_logging
from shared.settings import Settings

settings = Settings()
log = setup_logging("web")
port = settings.web_port or int(settings.base_url.rsplit(":", 1)[-1].split("/")[0])
try:
    app = create_app(settings)
except ConfigError as exc:
    log.critical("web cannot start: %s", exc)
    sys.exit(2)
uvicorn.run(app, host=settings.bind_host, port=port, log_level="warning")
