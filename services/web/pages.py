"""What every page shares: the templates (autoescaped: every value a user or a file supplied is
escaped), the signed-in user and the CSRF token in every form."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.web.security import caller_of, check_csrf, page_principal
from shared.accounts import Principal

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
STATIC = Path(__file__).with_name("static")
User = Annotated[Principal, Depends(page_principal)]
Csrf = Annotated[str, Form(alias="csrf_token", max_length=100)]


def render(request: Request, template: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    """A page with the signed-in user and the session's CSRF token."""
    caller = caller_of(request)
    return TEMPLATES.TemplateResponse(request, template, {
        "principal": caller.principal, "csrf": caller.csrf, **context},
        status_code=status_code)


def posted(request: Request, token: str) -> None:
    """A page's form must come with the session's CSRF token."""
    check_csrf(request, token)


def page_numbers(total: int, size: int) -> int:
    """How many pages ``total`` items take."""
    return max(1, -(-total // size))
