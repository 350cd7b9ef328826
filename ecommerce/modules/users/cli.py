"""``ecommerce users ...`` and ``ecommerce auth ...``: operator commands of the users module."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ecommerce.kernel.bootstrap import Kernel, migrated
from ecommerce.kernel.errors import AppError, Conflict
from ecommerce.kernel.module import command, command_group
from ecommerce.kernel.settings import Settings
from ecommerce.modules.users import accounts, sessions


def _read_password() -> str:
    """Prompt twice on a terminal; read one line from stdin otherwise (scripts, CI)."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise SystemExit("ecommerce: the passwords do not match")
        return first
    return sys.stdin.readline().rstrip("\n")


def _with_kernel(settings: Settings, work: Any) -> int:
    with migrated(settings) as kernel:
        try:
            return int(kernel.runner.call(work, kernel))
        except AppError as exc:
            details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            print(f"ecommerce: {exc.detail}" + (f" ({details})" if details else ""), file=sys.stderr)
            return 1


def create_admin(args: argparse.Namespace, settings: Settings) -> int:
    def work(kernel: Kernel) -> int:
        if args.promote:
            user = accounts.promote(args.email)
            print(f"{user.email} is now an admin (id {user.id})")
            return 0
        try:
            user = accounts.create_admin(args.email, _read_password())
        except Conflict:
            print("ecommerce: that account exists; use --promote to make it an admin", file=sys.stderr)
            return 1
        print(f"created admin {user.email} (id {user.id})")
        return 0

    return _with_kernel(settings, work)


def rotate_key(args: argparse.Namespace, settings: Settings) -> int:
    def work(kernel: Kernel) -> int:
        kid = accounts.config().keys.rotate()
        print(f"new signing key {kid}; tokens signed by older keys stay valid for their lifetime")
        for key_id, created, live in accounts.config().keys.live_keys():
            print(f"  {key_id:<28} {created:%Y-%m-%d %H:%M:%S}  {'live' if live else 'retired'}")
        return 0

    return _with_kernel(settings, work)


def purge(args: argparse.Namespace, settings: Settings) -> int:
    def work(kernel: Kernel) -> int:
        done = sessions.purge_expired()
        print(f"purged {done['blocked_tokens']} blocked token(s) and {done['sessions']} expired session(s)")
        return 0

    return _with_kernel(settings, work)


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    users = command_group(sub, "users", "user accounts")
    admin = command(users, "create-admin", create_admin, "create an admin (password prompted, or read from stdin)")
    admin.add_argument("email")
    admin.add_argument("--promote", action="store_true", help="make an existing account an admin instead")

    auth = command_group(sub, "auth", "tokens and sessions")
    command(auth, "rotate-key", rotate_key, "start signing access tokens with a new key")
    command(auth, "purge", purge, "delete expired sessions and blocked-token entries")
