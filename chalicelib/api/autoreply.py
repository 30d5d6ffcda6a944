"""Routes of /users/{user}/autoreply."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http import endpoint
from chalicelib.clock import iso
from chalicelib.services import autoreply

if TYPE_CHECKING:
    from chalicelib.schemas.autoreply import AutoreplyRef, DeleteAutoreply, UpdateAutoreply

bp = Blueprint(__name__)

AUTOREPLY = "/users/{user}/autoreply"


@endpoint(bp, AUTOREPLY, "PUT", "autoreply.UpdateAutoreply", response="CreatedId",
          summary="Set up or change the autoreply (only the fields given change)")
def update_autoreply(params: UpdateAutoreply) -> dict[str, Any]:
    return {"id": autoreply.update(params)}


@endpoint(bp, AUTOREPLY, "GET", "autoreply.AutoreplyRef", response="Autoreply",
          summary="Get the autoreply settings")
def get_autoreply(params: AutoreplyRef) -> dict[str, Any]:
    return view(autoreply.get(params.user))


@endpoint(bp, AUTOREPLY, "DELETE", "autoreply.DeleteAutoreply", response="Done",
          summary="Remove the autoreply")
def delete_autoreply(params: DeleteAutoreply) -> dict[str, Any]:
    autoreply.delete(params.user)
    return {}


def view(settings: autoreply.Autoreply) -> dict[str, Any]:
    return {"status": settings.status, "name": settings.name, "subject": settings.subject,
            "text": settings.text, "html": settings.html, "message": settings.text,
            "start": iso(settings.start) if settings.start else False,
            "end": iso(settings.end) if settings.end else False,
            "created": iso(settings.created) if settings.created else False}
