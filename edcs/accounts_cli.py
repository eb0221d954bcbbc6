"""``edcs users`` and ``edcs institutions``: who may sign in and submit, for which
institutions (through the web API, as a security administrator or an operator)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edcs.options import API, DATA_DIR, FORMAT, TOKEN, api_errors, connect

ROLES = ("submitter", "reviewer", "security-admin", "operator")
ROLE = click.Choice(ROLES)


@click.group()
def users() -> None:
    """Users and API tokens (a security administrator's and an operator's work)."""


@users.command("list")
@FORMAT
@API
@TOKEN
@DATA_DIR
def users_list(fmt: str, api: str | None, token: str | None, data_dir: Path) -> None:
    """The users you manage."""
    with api_errors():
        found = connect(api, data_dir, token).users()
    if fmt == "json":
        click.echo(json.dumps(found))
        return
    for u in found:
        state = "" if u["active"] else "  (deactivated)"
        click.echo(f"{u['id']:>5}  {u['email']:<36} {u['institution']:<10} "
                   f"{','.join(u['roles']) or '-'}{state}")


@users.command("add")
@click.argument("email")
@click.option("--institution", required=True, help="The institution the user belongs to.")
@click.option("--role", "roles", multiple=True, type=ROLE, help="A role (repeat for more).")
@click.option("--name", default="", help="The person's name.")
@FORMAT
@API
@TOKEN
@DATA_DIR
def users_add(email: str, institution: str, roles: tuple[str, ...], name: str, fmt: str,
              api: str | None, token: str | None, data_dir: Path) -> None:
    """Add a user; prints the generated password once (the user changes it at /account)."""
    with api_errors():
        made = connect(api, data_dir, token).add_user(
            {"email": email, "institution": institution, "roles": list(roles), "name": name})
    if fmt == "json":
        click.echo(json.dumps(made))
        return
    click.echo(f"user {made['id']} {made['email']} of institution {made['institution']}, "
               f"roles {', '.join(made['roles']) or 'none'}")
    click.echo(f"password (shown once): {made['password']}")


@users.command("grant")
@click.argument("user_id", type=int)
@click.option("--role", "roles", multiple=True, type=ROLE, help="A role to grant.")
@click.option("--revoke", "revoked", multiple=True, type=ROLE, help="A role to take away.")
@click.option("--deactivate", is_flag=True, help="The user can no longer sign in.")
@click.option("--activate", is_flag=True, help="The user can sign in again.")
@API
@TOKEN
@DATA_DIR
def users_grant(user_id: int, roles: tuple[str, ...], revoked: tuple[str, ...],
                deactivate: bool, activate: bool, api: str | None, token: str | None,
                data_dir: Path) -> None:
    """Grant or revoke a user's roles, or (de)activate the user."""
    if deactivate and activate:
        raise click.UsageError("--activate or --deactivate, not both")
    body: dict[str, object] = {"grant": list(roles), "revoke": list(revoked)}
    if deactivate or activate:
        body["active"] = activate
    with api_errors():
        done = connect(api, data_dir, token).change_user(user_id, body)
    click.echo(f"user {done['id']} {done['email']}: roles {', '.join(done['roles']) or 'none'}"
               f"{'' if done['active'] else ', deactivated'}")


@users.command("token")
@click.option("--institution", default=None, help="Issue a token of this institution.")
@click.option("--name", default="api token", show_default=True,
              help="Who uses it (e.g. the vendor's server).")
@click.option("--role", "roles", multiple=True, type=ROLE,
              help="Its roles [default: submitter and reviewer].")
@click.option("--revoke", "revoke_id", type=int, default=None, help="Revoke the token with "
                                                                    "this id instead.")
@click.option("--list", "list_them", is_flag=True, help="List the tokens you manage.")
@FORMAT
@API
@TOKEN
@DATA_DIR
def users_token(institution: str | None, name: str, roles: tuple[str, ...],
                revoke_id: int | None, list_them: bool, fmt: str, api: str | None,
                token: str | None, data_dir: Path) -> None:
    """Issue an API token of an institution (printed once), list tokens, or revoke one."""
    with api_errors():
        client = connect(api, data_dir, token)
        if list_them:
            found = client.tokens()
            if fmt == "json":
                click.echo(json.dumps(found))
            for t in [] if fmt == "json" else found:
                click.echo(f"{t['id']:>5}  {t['institution']:<10} {','.join(t['roles']):<28} "
                           f"{'revoked' if t['revoked'] else 'live':<8} {t['name']}")
            return
        if revoke_id is not None:
            done = client.revoke_token(revoke_id)
            click.echo(f"token {done['id']} ({done['name']}) revoked")
            return
        if not institution:
            raise click.UsageError("give --institution ID (or --list, or --revoke ID)")
        made = client.issue_token({"institution": institution, "name": name,
                                   "roles": list(roles) or ["submitter", "reviewer"]})
    if fmt == "json":
        click.echo(json.dumps(made))
        return
    click.echo(f"token {made['id']} of institution {made['institution']} "
               f"({', '.join(made['roles'])}); send it as 'Authorization: Bearer <token>':")
    click.echo(made["token"])


@click.group()
def institutions() -> None:
    """The institution hierarchy (reference data)."""


@institutions.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@API
@TOKEN
@DATA_DIR
def institutions_load(file: Path, api: str | None, token: str | None, data_dir: Path) -> None:
    """Load a CSV file of institutions (id,name,kind,parent_id,contact_email); operator."""
    with api_errors():
        done = connect(api, data_dir, token).load_institutions(file)
    click.echo(f"{done['added']} institutions added, {done['updated']} updated")
