"""``python -m services.web``: serve the web app with uvicorn."""

import uvicorn

from services.web.app import create_app
from shared.observability import setup_logging
from shared.settings import Settings

settings = Settings()
setup_logging("web")
port = int(settings.base_url.rsplit(":", 1)[-1].split("/")[0])
uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
