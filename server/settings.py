"""The one settings object, read from ``HEARTHSIDE_*`` environment variables.

Every field's description is the documentation: ``hearthside settings`` prints them and a
test fails if the README's configuration table drifts from this class.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any

import msgspec

_REPO = Path(__file__).resolve().parent.parent


def _doc(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    data_dir: Annotated[Path, _doc("Folder holding the SQLite database and the (keyring-sealed) VAPID key.")] = Path("data")
    demo: Annotated[bool, _doc("Demo mode: the demo users' shared password is accepted. Never set in production.")] = False
    keyring_file: Annotated[
        Path | None,
        _doc("Keyring file for server-side field encryption, kept apart from the database. Default: "
             "keyring.json in a folder beside the data directory named after it with -keys (data-keys/)."),
    ] = None
    keyring: Annotated[
        str | None, _doc("Keyring as JSON in the environment instead of a file (takes precedence over the file).")
    ] = None
    audit_anchor_file: Annotated[
        Path | None,
        _doc("Append-only file the audit trail's keyed head is written to after every audited write; keep it "
             "off the database's volume. Default: anchor.jsonl in a folder beside the data directory named "
             "after it with -audit (data-audit/)."),
    ] = None
    audit_syslog: Annotated[
        str,
        _doc("Also send each audit anchor line (ids and hashes only) to syslog: 'local' (/dev/log) or "
             "HOST:PORT (UDP). Empty: off."),
    ] = ""
    content_dir: Annotated[Path, _doc("Folder of checklist content (YAML) and golden cases.")] = _REPO / "content"
    pwa_dir: Annotated[Path, _doc("Folder of the PWA's static files, served at /.")] = _REPO / "pwa"
    access_token_ttl_seconds: Annotated[int, _doc("Lifetime of an access token, in seconds."), msgspec.Meta(ge=30)] = 900
    refresh_token_ttl_days: Annotated[
        int, _doc("Lifetime of a device's refresh token without use, in days."), msgspec.Meta(ge=1)
    ] = 30
    max_body_bytes: Annotated[
        int, _doc("Largest request body accepted, in bytes; larger bodies get 413."), msgspec.Meta(ge=1024)
    ] = 2_000_000
    log_level: Annotated[str, _doc("Python log level for the server (DEBUG, INFO, WARNING, ERROR).")] = "INFO"
    password_hash_log2_n: Annotated[
        int,
        _doc("scrypt cost for new password hashes as log2(N); lower it only for test runs."),
        msgspec.Meta(ge=10, le=20),
    ] = 15
    webhook_interval_seconds: Annotated[
        float, _doc("How often agency webhook notices are enqueued and delivered, in seconds; 0 turns them off.")
    ] = 15
    timezone: Annotated[str, _doc("Default time zone for new agencies (IANA name).")] = "Europe/London"
    scheduler_enabled: Annotated[
        bool, _doc("Run the in-process scheduler that sends web-push reminders and urgent flags (off for tests that drive it by hand).")
    ] = True
    scheduler_interval_seconds: Annotated[
        float, _doc("Seconds between scheduler runs; keep it under 60 so urgent flags reach supervisors within a minute."),
        msgspec.Meta(gt=0, le=300),
    ] = 15.0
    scheduler_lease_seconds: Annotated[
        float, _doc("How long a server process holds the scheduler lease; another process takes over after it lapses."),
        msgspec.Meta(gt=0),
    ] = 60.0
    vapid_subject: Annotated[
        str, _doc("VAPID 'sub' claim sent to push services: a mailto: or https: contact for the operator.")
    ] = "mailto:admin@hearthside.invalid"
    push_ttl_seconds: Annotated[
        int, _doc("How long a push service keeps an undelivered reminder (TTL header), in seconds."), msgspec.Meta(ge=0)
    ] = 86_400
    push_max_attempts: Annotated[
        int, _doc("Sending attempts per notification and device before it is given up (429 and 5xx are retried)."),
        msgspec.Meta(ge=1, le=20),
    ] = 6
    push_backoff_seconds: Annotated[
        float, _doc("First retry delay after a 429 or 5xx, doubled on each further attempt (Retry-After wins when longer)."),
        msgspec.Meta(gt=0),
    ] = 20.0
    reminder_hour: Annotated[
        int, _doc("Local hour (agency time zone) of the morning reminder on the day a follow-up is due."),
        msgspec.Meta(ge=0, le=23),
    ] = 8
    trust_proxy: Annotated[
        bool,
        _doc("Behind a trusted reverse proxy: believe X-Forwarded-Proto (HSTS) and X-Forwarded-For (sign-in throttling)."),
    ] = False
    trusted_proxies: Annotated[
        str,
        _doc("Comma-separated addresses or networks (CIDR) of the reverse proxies believed when HEARTHSIDE_TRUST_PROXY "
             "is on; forwarded headers from any other peer are ignored."),
        msgspec.Meta(max_length=2000),
    ] = "127.0.0.1,::1"
    body_timeout_seconds: Annotated[
        float, _doc("Longest time a client may take to send a request body, in seconds; slower senders get 408 and "
                    "the connection is closed."), msgspec.Meta(gt=0, le=600),
    ] = 60.0
    session_max_days: Annotated[
        int, _doc("Absolute lifetime of a signed-in session, in days: refreshing never extends it."), msgspec.Meta(ge=1)
    ] = 14
    refresh_grace_seconds: Annotated[
        int,
        _doc("How long after a refresh the previous refresh token still gets the same new pair, once (a lost reply); "
             "0 turns the grace off. Presented again after that, it ends every session of the device."),
        msgspec.Meta(ge=0, le=600),
    ] = 60

    public_url: Annotated[
        str,
        _doc("The server's public address (scheme, host and any path prefix, no trailing slash), from which every "
             "absolute URL it gives out is built (FHIR fullUrls, links, the CapabilityStatement); never the "
             "request's Host header."),
        msgspec.Meta(pattern=r"^https?://[A-Za-z0-9.\[\]:-]+(/[A-Za-z0-9._~%/-]*[A-Za-z0-9._~%-])?$"),
    ] = "http://localhost:8000"

    def __post_init__(self) -> None:
        proxy_networks(self.trusted_proxies)  # a typo must stop the server, not trust nobody (or everyone)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "hearthside.db"

    def _beside_data_dir(self, suffix: str) -> Path:
        # Beside, not inside: copying, archiving or sharing the data directory does not
        # take the keys or the anchor with it.
        here = self.data_dir.absolute()
        return here.parent / f"{here.name}-{suffix}"

    @property
    def keyring_path(self) -> Path:
        return self.keyring_file or (self._beside_data_dir("keys") / "keyring.json")

    @property
    def legacy_keyring_path(self) -> Path:
        """Where the keyring used to be by default: inside the data directory."""
        return self.data_dir / "keys" / "keyring.json"

    @property
    def anchor_path(self) -> Path:
        return self.audit_anchor_file or (self._beside_data_dir("audit") / "anchor.jsonl")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from ``HEARTHSIDE_<FIELD>`` variables; ``overrides`` (e.g. CLI
        flags) win over the environment. Bad values fail loudly, naming the variable."""
        environ = os.environ if environ is None else environ
        raw: dict[str, Any] = {}
        for name in cls.__struct_fields__:
            key = env_name(name)
            if key in environ:
                raw[name] = environ[key]
        raw.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return msgspec.convert(raw, cls, strict=False, dec_hook=_to_path)
        except msgspec.ValidationError as exc:
            raise SystemExit(f"Invalid setting: {exc} (environment variables HEARTHSIDE_*)") from None


def proxy_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The trusted proxies as networks; a wildcard is refused (it would believe any client)."""
    entries = [e.strip() for e in text.split(",") if e.strip()]
    if not entries:
        raise ValueError("trusted_proxies must name at least one address")
    try:
        return [ipaddress.ip_network(e, strict=False) for e in entries]
    except ValueError:
        raise ValueError("trusted_proxies must be IP addresses or CIDR networks, comma-separated") from None


def _to_path(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, (str, Path)):
        return Path(value)
    raise NotImplementedError


def env_name(field: str) -> str:
    return "HEARTHSIDE_" + field.upper()


def documented_settings() -> list[tuple[str, str, str]]:
    """(variable, default, description) for each setting, read off the class itself."""
    import typing

    rows = []
    hints = typing.get_type_hints(Settings, include_extras=True)
    for name in Settings.__struct_fields__:
        description = next(
            m.description for m in hints[name].__metadata__ if isinstance(m, msgspec.Meta) and m.description
        )
        default = getattr(Settings, "__struct_defaults__")[Settings.__struct_fields__.index(name)]
        shown = "" if default is None else str(default)
        if isinstance(default, Path) and default.is_absolute():
            shown = "<repository>/" + default.name
        rows.append((env_name(name), shown, description))
    return rows
