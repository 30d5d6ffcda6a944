"""Routes of /users/{user}/asps: application-specific passwords."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http import endpoint
from chalicelib.clock import iso
from chalicelib.services import asps
from chalicelib.services.authlog import Audit
from chalicelib.store.asps import AspItem

if TYPE_CHECKING:
    from chalicelib.schemas.asps import AspRef, CreateAsp, DeleteAsp, ListAsps

bp = Blueprint(__name__)


@endpoint(bp, "/users/{user}/asps", "GET", "asps.ListAsps", response="AspList",
          summary="List the application specific passwords of a user")
def list_asps(params: ListAsps) -> dict[str, Any]:
    return {"results": [asp_view(item) for item in asps.listing(params.user)
                        if params.showAll or item.expires is None]}


@endpoint(bp, "/users/{user}/asps/{asp}", "GET", "asps.AspRef", response="AspDetails",
          summary="Get one application specific password")
def get_asp(params: AspRef) -> dict[str, Any]:
    return asp_view(asps.get(params.user, params.asp))


@endpoint(bp, "/users/{user}/asps", "POST", "asps.CreateAsp", response="AspCreated",
          summary="Create an application specific password (shown only in this answer)")
def create_asp(params: CreateAsp) -> dict[str, Any]:
    created = asps.create(params.user, description=params.description, scopes=params.scopes,
                          ttl=params.ttl or None, mobileconfig=params.generateMobileconfig,
                          audit=Audit(params.sess, params.ip), password=params.password,
                          address=params.address)
    result: dict[str, Any] = {"id": created.id, "password": created.password}
    if created.mobileconfig is not None:
        result.update(mobileconfig=created.mobileconfig, name=created.name,
                      address=created.address)
    return result


@endpoint(bp, "/users/{user}/asps/{asp}", "DELETE", "asps.DeleteAsp", response="Done",
          summary="Delete an application specific password")
def delete_asp(params: DeleteAsp) -> dict[str, Any]:
    asps.delete(params.user, params.asp, Audit(params.sess, params.ip))
    return {}


# --------------------------------------------------------------------------- views


def asp_view(item: AspItem) -> dict[str, Any]:
    """An ASP as listed; every scope ("*") is shown as the scopes it stands for, as
    WildDuck lists it."""
    last_use = item.lastUse.as_dict() if item.lastUse else {}
    scopes = item.scopes
    return {
        "id": item.id,
        "description": item.description,
        "scopes": list(asps.EVERY_SCOPE if asps.ALL_SCOPES in scopes else scopes),
        "lastUse": {"time": iso(last_use["time"]) if last_use.get("time") else False,
                    "event": last_use.get("event") or False},
        "created": iso(item.created),
        "expires": iso(item.expires * 1000) if item.expires is not None else False,
    }
