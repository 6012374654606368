"""LS502: a bootstrap (or extension) that shows no sign of a Lambda Runtime API client."""

from __future__ import annotations

from collections.abc import Iterator

from linkscope.advice import runtime_client_fix
from linkscope.model import Finding, Severity
from linkscope.resolve import Role, World
from linkscope.rules.base import Context, Rule, named

EXTENSION_ONLY = "extensions-api"


def check_client(world: World, ctx: Context) -> Iterator[Finding]:
    for item in world.placed:
        facts = item.facts
        if item.role is Role.BOOTSTRAP:
            if not world.target.runtime.os_only:
                continue  # a managed runtime starts its own client; a bootstrap file is not run
            client = facts.runtime_client
            if client is not None and client.name != EXTENSION_ONLY:
                continue
            what, api, consequence = (
                "bootstrap",
                "Runtime API",
                "Lambda starts it, it never asks for an invocation, and the invoke fails: the "
                "function times out, or reports `Runtime.ExitError` when the program exits",
            )
        elif item.role is Role.EXTENSION:
            if facts.runtime_client is not None:
                continue
            what, api, consequence = (
                "extension",
                "Extensions API",
                "Lambda starts it and waits for it to register: the function's init fails with "
                "`Extension.InitError`, or times out",
            )
        else:
            continue
        if facts.machine != world.target.os.machine:
            continue  # LS101 already says it cannot start at all
        yield NO_CLIENT.finding(
            facts.path,
            f"{named(facts.path)} is the {what}, but it shows no sign of a Lambda {api} client "
            "(no `AWS_LAMBDA_RUNTIME_API`, no `/2018-06-01/runtime/invocation/`, no known "
            f"client's user agent): {consequence}.",
            runtime_client_fix(facts, extension=item.role is Role.EXTENSION),
        )


NO_CLIENT = Rule(
    id="LS502",
    title="no sign of a Lambda Runtime API client",
    severity=Severity.WARNING,
    help="A bootstrap must call the Runtime API (GET /2018-06-01/runtime/invocation/next) itself "
    "or through a client library; one that does not starts and then times out or exits.",
    check=check_client,
)
RULES = (NO_CLIENT,)
