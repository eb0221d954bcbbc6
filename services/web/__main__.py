"""``python -m services.web``: serve the web app with uvicorn."""

import uvicorn

from services.web.app import create_app
from shared.observability import setup_logging
from shared.settings import Settings

settings = Settings()
setup_logging("web")
port = settings.web_port or int(settings.base_url.rsplit(":", 1)[-1].split("/")[0])
uvicorn.run(create_app(settings), host=settings.bind_host, port=port, log_level="warning")
