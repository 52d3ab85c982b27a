"""Administration over HTTP: operator accounts and a read-only view of the devices. Device keys
are provisioned by a command on the registry host, never over this API."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from central_ingest.api.auth import Admin
from central_ingest.api.deps import OperatorsDep, StoreDep
from central_ingest.api.errors import AUTH_RESPONSES, ApiError, ErrorBody, InvalidRequestBody
from central_ingest.operators import (
    MAX_DISPLAY_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    USERNAME_PATTERN,
    Operator,
    Role,
    normalise_source,
    normalise_username,
)
from central_ingest.store.devices import list_devices
from contract import DeviceKind
from i18n import Language, Text

router = APIRouter(prefix="/v1/admin", tags=["administration"], responses=AUTH_RESPONSES)


class OperatorView(BaseModel):
    username: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime
    language: Language | None = Field(
        description="The language of the operator's screens; null: the registry's default."
    )

    @classmethod
    def of(cls, operator: Operator) -> OperatorView:
        return cls(
            username=operator.username,
            display_name=operator.display_name,
            role=operator.role,
            active=operator.active,
            created_at=operator.created_at,
            language=operator.language,
        )


class NewOperator(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The pattern is documented, not enforced here: the registry checks it itself after
    # lower-casing (operators.py), so that a refused name gets its own sentence.
    username: str = Field(
        min_length=3,
        max_length=32,
        examples=["a.seitkali"],
        json_schema_extra={
            "pattern": USERNAME_PATTERN.pattern,
            "description": "Lower-case Latin letters, digits, '.', '_' and '-', starting with"
            " a letter; 3 to 32 characters (upper case is lowered).",
        },
    )
    display_name: str = Field(
        min_length=1, max_length=MAX_DISPLAY_NAME_LENGTH, examples=["Aigerim Seitkali"]
    )
    role: Role
    password: SecretStr = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)


class LanguageChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language | None = Field(
        description="kk (Kazakh), ru (Russian) or en (English, for engineers); null: the"
        " registry's default language.",
        examples=["kk"],
    )


class DeviceView(BaseModel):
    device_id: str
    kind: DeviceKind
    status: str
    description: str
    registered_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None


@router.get("/operators", response_model=list[OperatorView], summary="All operator accounts")
def all_operators(_: Admin, operators: OperatorsDep) -> list[OperatorView]:
    return [OperatorView.of(operator) for operator in operators.list()]


@router.post(
    "/operators",
    response_model=OperatorView,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"model": ErrorBody, "description": "The user name is taken."},
        422: {
            "model": InvalidRequestBody,
            "description": "The user name or password is not acceptable.",
        },
    },
    summary="Create an operator account",
)
def create_operator(body: NewOperator, admin: Admin, operators: OperatorsDep) -> OperatorView:
    operator = operators.create(
        body.username,
        display_name=body.display_name,
        role=body.role,
        password=body.password.get_secret_value(),
        actor=admin.actor,
    )
    return OperatorView.of(operator)


@router.post(
    "/operators/{username}/deactivate",
    response_model=OperatorView,
    responses={
        404: {"model": ErrorBody, "description": "No such operator."},
        409: {
            "model": ErrorBody,
            "description": "The administrator's own account, or one deactivated already.",
        },
    },
    summary="Deactivate an operator account and end its sessions",
)
def deactivate_operator(username: str, admin: Admin, operators: OperatorsDep) -> OperatorView:
    if normalise_username(username) == admin.username:
        raise ApiError(
            409,
            "cannot_deactivate_self",
            Text(
                "An administrator cannot deactivate their own account; ask another administrator."
            ),
        )
    return OperatorView.of(operators.deactivate(username, actor=admin.actor))


@router.post(
    "/operators/{username}/reactivate",
    response_model=OperatorView,
    responses={
        404: {"model": ErrorBody, "description": "No such operator."},
        409: {"model": ErrorBody, "description": "The account is active already."},
    },
    summary="Reactivate a deactivated operator account",
)
def reactivate_operator(username: str, admin: Admin, operators: OperatorsDep) -> OperatorView:
    """The account signs in again with its password as it was (set a new one if the old may be
    known); recorded in the audit ledger like the deactivation."""
    return OperatorView.of(operators.reactivate(username, actor=admin.actor))


@router.post(
    "/operators/{username}/lift-sign-in-pause",
    response_model=OperatorView,
    responses={404: {"model": ErrorBody, "description": "No such operator."}},
    summary="Let an operator sign in again at once after failed sign-ins",
)
def lift_sign_in_pause(username: str, admin: Admin, operators: OperatorsDep) -> OperatorView:
    """Forgets the account's failed sign-ins from every address, ending their pauses. A pause
    of an address for failures across many user names stays (it is about the address). Setting
    a new password lifts the pauses too."""
    return OperatorView.of(operators.lift_sign_in_pause(username, actor=admin.actor))


class AddressPauseLifted(BaseModel):
    source: str = Field(description="The address as sign-ins record it.")
    forgotten: int = Field(description="Failed sign-ins from it forgotten.")


@router.post(
    "/sign-in-sources/{address}/lift-pause",
    response_model=AddressPauseLifted,
    responses={422: {"model": ErrorBody, "description": "Not an address."}},
    summary="Let an address sign in again at once after failed sign-ins across user names",
)
def lift_address_pause(address: str, admin: Admin, operators: OperatorsDep) -> AddressPauseLifted:
    """Forgets the failures counted against the address across user names (someone guessed
    passwords from that workstation), ending its pause. The pauses of single accounts from it
    stay: lift those per operator."""
    forgotten = operators.lift_source_pause(address, actor=admin.actor)
    return AddressPauseLifted(source=normalise_source(address), forgotten=forgotten)


@router.put(
    "/operators/{username}/language",
    response_model=OperatorView,
    responses={
        404: {"model": ErrorBody, "description": "No such operator."},
        422: {"model": InvalidRequestBody, "description": "Not one of kk, ru, en or null."},
    },
    summary="Set the language of an operator's screens",
)
def set_operator_language(
    username: str, body: LanguageChoice, admin: Admin, operators: OperatorsDep
) -> OperatorView:
    """The console then speaks this language to the operator; null returns them to the
    registry's default. The operator's open sessions follow at their next page."""
    return OperatorView.of(operators.set_language(username, body.language, actor=admin.actor))


@router.get("/devices", response_model=list[DeviceView], summary="Registered devices (read-only)")
def devices(_: Admin, store: StoreDep) -> list[DeviceView]:
    return [DeviceView.model_validate(row) for row in list_devices(store)]
